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


{% macro get_where_subquery(relation) %}
    {#-
        dbt's own macro (what a data test reads of the model it tests), overridden so that the tests
        of a day-partitioned model check the days this run replaced, not every day kept. The other
        days were checked by the runs that built them and are untouched, so a nightly build's tests
        read one day's rows however long the history (400 days at full retention), and a backfill's
        read its days. A test's own `where` config still applies.
    -#}
    {%- set conditions = [config.get('where')] if config.get('where') else [] -%}
    {%- set tested = graph.nodes.get(model.attached_node) if execute and model.attached_node -%}
    {%- if tested and tested.config.incremental_strategy == 'replace_days'
            and tested.config.materialized == 'incremental' -%}
        {%- do conditions.append(in_run_window('local_date')) -%}
    {%- endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
