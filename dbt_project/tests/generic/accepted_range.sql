{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    {#- Every non-null value lies within [min_value, max_value] (either bound may be left out).
        Vendored instead of dbt_utils.accepted_range (same arguments, always inclusive), since
        `dbt deps` cannot reach the package hub here. -#}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and (false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %})
{% endtest %}
