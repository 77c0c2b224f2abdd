{% test unique_combination(model, columns) %}
    {#- No two rows share the same values in `columns` (a composite key). Vendored instead of
        dbt_utils.unique_combination_of_columns (`columns` for its `combination_of_columns`). -#}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
