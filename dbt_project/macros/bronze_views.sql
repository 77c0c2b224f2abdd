{% macro create_bronze_views() %}
    {#-
        A view per source over its S3 objects (meta.glob, or meta.location for one object; for a
        source published per day or clip, meta.published or meta.published_generations, the files of
        meta.glob that are published), in the source's schema, so `dbt source freshness` and the
        docs catalog find a relation behind every source. Run at the start of every dbt command
        (on-run-start). Creating a view lists its objects and reads one footer, so a view already
        over the current pattern is kept (a local catalog query; the view lists again whenever it is
        read); a source with no objects (or no publication) yet gets a typed empty view, tried again
        on the next run.
        A registry object not written yet gets no view: the models that read it fail, naming it.
        Models read the run's days straight from the objects (bronze_parquet), never these views.
    -#}
    {%- if not execute -%}
        {{ return("") }}
    {%- endif -%}
    {%- for node in graph.sources.values() if node.meta.glob or node.meta.location -%}
        {%- set body = none -%}
        {%- set pattern = node.meta.glob or node.meta.location -%}
        {%- set current -%}
            select count(*) from duckdb_views()
            where schema_name = '{{ node.schema }}' and view_name = '{{ node.identifier }}'
                and sql like '%{{ pattern }}%'
        {%- endset -%}
        {%- if run_query(current).columns[0].values()[0] == 0 -%}
            {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
            {#- A wildcard even for one object: a glob of a plain path returns it whether it exists or not. -#}
            {%- set listing = "select count(*) from glob('" ~ (pattern if node.meta.glob else pattern ~ "*") ~ "')" -%}
            {%- set found = run_query(listing).columns[0].values()[0] > 0 -%}
            {%- set published = node.meta.published_generations or node.meta.published -%}
            {%- if found and published -%}
                {%- set listing = "select count(*) from glob('" ~ published ~ "')" -%}
                {%- set found = run_query(listing).columns[0].values()[0] > 0 -%}
            {%- endif -%}
            {%- if found and published -%}
                {#- only the files a publication names: never a generation being written or one a
                    killed run left; the globs expand when the view is read, so it stays current -#}
                {%- set body -%}
                    select * exclude (filename)
                    from read_parquet('{{ pattern }}', hive_partitioning = false, union_by_name = true, filename = true)
                    where filename in (
                    {%- if node.meta.published_generations %}
                        select file from {{ newest_generation_files(node, "glob('" ~ published ~ "')") }}
                    {%- else %}
                        select json_extract_string(content, '$.files.{{ node.name }}.uri')
                        from read_text('{{ published }}')
                    {%- endif %}
                    )
                {%- endset -%}
            {%- elif found -%}
                {%- set body = "select * from read_parquet('" ~ pattern ~ "', hive_partitioning = false)" -%}
            {%- elif node.meta.glob -%}
                {%- set body -%}
                    select
                    {%- for column in node.columns.values() %}
                        cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
                    {%- endfor %}
                    where false
                {%- endset -%}
            {%- endif -%}
            {%- if body -%}
                {%- do run_query("create schema if not exists " ~ relation.without_identifier()) -%}
                {%- do run_query("create or replace view " ~ relation ~ " as " ~ body) -%}
            {%- else -%}
                {%- do log(node.source_name ~ "." ~ node.name ~ ": no object at " ~ pattern ~ " yet, no view", info=true) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
