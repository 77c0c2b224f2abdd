{% macro get_incremental_replace_days_sql(arg_dict) %}
    {#-
        The day-partition strategy: delete the run's days, then insert what the model built for them.
        A day the model produced no rows for is emptied too, so a rebuild of a date range leaves
        exactly what the source says about those days and never touches any other day.
    -#}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    delete from {{ target }} where {{ in_run_window('local_date') }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict["temp_relation"] }}
{% endmacro %}
