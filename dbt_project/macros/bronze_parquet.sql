{% macro bronze_parquet(source_name, table_name, late_days=1) %}
    {#-
        The source's files of the run's days, plus `late_days` after them (a reading may arrive up
        to an hour late, in the next day's file), as one relation. A typed empty relation when there
        are none, so a feed that has not delivered yet (CCTV) reads as empty instead of failing.
        The files are those the days' publications name (meta.published), else those meta.glob
        matches; the date=YYYY-MM-DD part of their keys selects the days.
    -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set window = run_window() -%}
    {%- set last = (modules.datetime.date.fromisoformat(window[1])
                    + modules.datetime.timedelta(days=late_days)).isoformat() -%}
    {%- set listing -%}
        select file from {{ bronze_files(node, window[0], last) }}
        where regexp_extract(file, 'date=([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) between '{{ window[0] }}' and '{{ last }}'
        order by file
    {%- endset -%}
    {%- set files = run_query(listing).columns[0].values() -%}
    {%- if files | length == 0 -%}
        (select
        {%- for column in node.columns.values() %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false)
    {%- else -%}
        read_parquet([
        {%- for file in files %}
            '{{ file }}'{{ "," if not loop.last }}
        {%- endfor %}
        ], hive_partitioning = false, union_by_name = true)
    {%- endif -%}
{% endmacro %}


{% macro bronze_file_listing(source_name, table_name) %}
    {#- The source's files around the run's days (path only; the model keeps the days), empty-safe:
        a file's presence is evidence on its own. -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set window = run_window() -%}
    {{ bronze_files(node, window[0], window[1]) }}
{% endmacro %}


{% macro bronze_files(node, first, last) %}
    {#-
        The source's files dated from `first` to `last`, as a relation of `file`. A source published
        per day (meta.published, the pattern of its days' publication.json) is read through them:
        each names one file per table (by the table's name), written before it, so a reader never
        meets a generation still being written or one left half-written by a killed run. A source
        published per clip and generation (meta.published_generations): each clip's newest published
        generation, from the keys alone. Any other source: the files its meta.glob matches.
    -#}
    {%- if node.meta.published_generations -%}
        {{ newest_generation_files(node, bronze_globs(node.name, node.meta.published_generations, first, last)) }}
    {%- elif node.meta.published -%}
        {%- set listing = "select file from " ~ bronze_globs(node.name, node.meta.published, first, last) -%}
        {%- set publications = run_query(listing).columns[0].values() -%}
        {%- if publications | length == 0 -%}
            (select cast(null as varchar) as file where false)
        {%- else -%}
            (select json_extract_string(content, '$.files.{{ node.name }}.uri') as file
             from read_text([
             {%- for publication in publications %}
                 '{{ publication }}'{{ "," if not loop.last }}
             {%- endfor %}
             ]))
        {%- endif -%}
    {%- else -%}
        {{ bronze_globs(node.name, node.meta.glob, first, last) }}
    {%- endif -%}
{% endmacro %}


{% macro bronze_globs(name, pattern, first, last) %}
    {#-
        The objects of `pattern` dated from `first` to `last` (YYYY-MM-DD, or the months around
        them), as a relation of `file`: the pattern with date=* narrowed to each day (date=YYYY-MM-DD*) for a
        run of under a week, else to each month (date=YYYY-MM-*), so a daily run asks S3 for two
        prefixes and a backfill for one per month, never for the source's whole history (bronze
        keys put the date right after the table for this).
    -#}
    {%- if 'date=*' not in pattern -%}
        {{ exceptions.raise_compiler_error(name ~ ": the file pattern must contain date=*, got " ~ pattern) }}
    {%- endif -%}
    {%- set start = modules.datetime.date.fromisoformat(first) -%}
    {%- set days = (modules.datetime.date.fromisoformat(last) - start).days + 1 -%}
    {#- Always a wildcard: a glob of a plain path returns it whether or not the object exists. -#}
    {%- set unit = '%Y-%m-%d*' if days < 7 else '%Y-%m-*' -%}
    {%- set dates = [] -%}
    {%- for offset in range(days) -%}
        {%- set value = (start + modules.datetime.timedelta(days=offset)).strftime(unit) -%}
        {%- if value not in dates %}{% do dates.append(value) %}{% endif -%}
    {%- endfor -%}
    (
    {%- for value in dates %}
        select file from glob('{{ pattern | replace("date=*", "date=" ~ value) }}')
        {{- " union all" if not loop.last }}
    {%- endfor %}
    )
{% endmacro %}


{% macro newest_generation_files(node, publications) %}
    {#-
        The file of each folder's newest published generation, from `publications` (a relation of
        `file`: meta.published_generations' objects, <folder>/gen=<G>.json), as a relation of
        `file`: meta.glob's prefix, the folder, then gen=<G>/<folder's last part>.parquet
        (cityplatform.layout's bronze_clip_key). A listing is all it takes: no object is read.
    -#}
    {%- set files = node.meta.glob.split('/date=')[0] -%}
    (select '{{ files }}' || m.folder || '/gen=' || max(m.generation) || '/' || m.name || '.parquet' as file
     from (
         select regexp_extract(
             file, '(/date=.*/([^/]+))/gen=([^/.]+)\.json$', ['folder', 'name', 'generation']
         ) as m
         from {{ publications }}
     )
     where m.generation <> ''
     group by m.folder, m.name)
{% endmacro %}
