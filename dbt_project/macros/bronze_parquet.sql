{% macro bronze_parquet(source_name, table_name, late_days=1) %}
    {#-
        The source's files of the run's days, plus `late_days` after them (a reading may arrive up
        to an hour late, in the next day's file), as one relation. A typed empty relation when there
        are none, so a feed that has not delivered yet (CCTV) reads as empty instead of failing.
        The file pattern is the source's meta.glob; its date=YYYY-MM-DD part selects the days.
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
        select file from {{ bronze_globs(node, window[0], last) }}
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
    {{ bronze_globs(node, window[0], window[1]) }}
{% endmacro %}


{% macro bronze_globs(node, first, last) %}
    {#-
        The source's files dated from `first` to `last` (YYYY-MM-DD, or the months around them), as a
        relation of `file`: its meta.glob with date=* narrowed to each day (date=YYYY-MM-DD*) for a
        run of under a week, else to each month (date=YYYY-MM-*), so a daily run asks S3 for two
        prefixes and a backfill for one per month, never for the source's whole history (bronze
        keys put the date right after the table for this).
    -#}
    {%- if 'date=*' not in node.meta.glob -%}
        {{ exceptions.raise_compiler_error(node.name ~ ": meta.glob must contain date=*, got " ~ node.meta.glob) }}
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
        select file from glob('{{ node.meta.glob | replace("date=*", "date=" ~ value) }}')
        {{- " union all" if not loop.last }}
    {%- endfor %}
    )
{% endmacro %}
