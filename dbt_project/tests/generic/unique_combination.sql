{% test unique_combination(model, columns) %}
    {#- No two rows share the same values in `columns` (a composite key). -#}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
