{% test primary_key(model, columns) %}
    {#-
        A table's key where no constraint can hold it (staging tables and incremental models without
        a contract): no null in any key column and no key twice, in one scan instead of a not_null
        test per column and a uniqueness test. Marts need none: their contract's primary key is
        enforced by DuckDB on every insert. It replaces dbt's not_null on each key column plus
        dbt_utils.unique_combination_of_columns (dbt_utils has no single test that does both).
    -#}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
        {%- for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}
