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
        select file from glob('{{ node.meta.glob }}')
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
    {#- Every file of a source (path only), empty-safe: a file's presence is evidence on its own. -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    glob('{{ node.meta.glob }}')
{% endmacro %}
