{% macro registry_as_of(versions, at) %}
    {#-
        Join condition: the version of a registry row (a *_versions staging model, alias `versions`)
        in force at the instant `at`: valid_from <= at < valid_to. The first version recorded of a
        key reaches back without limit, the current one forward, so every instant finds exactly one.
    -#}
    ({{ at }} >= {{ versions }}.valid_from and {{ at }} < {{ versions }}.valid_to)
{% endmacro %}


{% macro registry_validity(unique_key) %}
    {#- valid_from/valid_to of a snapshot's rows, open-ended at both ends (see registry_as_of). -#}
    case
        when row_number() over (partition by {{ unique_key }} order by dbt_valid_from) = 1
            then cast('-infinity' as timestamp with time zone)
        else cast(dbt_valid_from as timestamp with time zone)
    end as valid_from,
    coalesce(cast(dbt_valid_to as timestamp with time zone), cast('infinity' as timestamp with time zone)) as valid_to
{% endmacro %}


{% macro registry_day_start(date_column) %}
    {#-
        The instant a day-partitioned mart's row of local date D reads the registry at (registry_as_of):
        D's local midnight, so every row of D, and a backfill of D, sees the version in force that day.
    -#}
    timezone('{{ var("timezone") }}', cast({{ date_column }} as timestamp))
{% endmacro %}
