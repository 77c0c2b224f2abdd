{#-
    Scores that weigh where a district ranks among the city's districts, without ever treating a
    missing input as the lowest (or highest) value: a term is ranked among the districts where it
    is known, the score is the weighted mean of the known terms (weights renormalised over them),
    and the missing terms are listed by name.
-#}

{% macro rank_among_known(column, partition='local_date') %}
    {#- Percent rank, 0 (lowest) to 1 (highest), among the rows of the partition where `column` is
        known; null where it is not (DuckDB sorts nulls last, so a plain rank would put them on top). -#}
    case when {{ column }} is not null then
        percent_rank() over (partition by {{ partition }}, {{ column }} is null order by {{ column }})
    end
{% endmacro %}


{% macro known_weight(terms) %}
    {#- terms: [[name, column, weight], ...]. Sum of the weights of the terms that are known. -#}
    ({% for name, column, weight in terms %}case when {{ column }} is not null then {{ weight }} else 0 end
        {{- " + " if not loop.last }}{% endfor %})
{% endmacro %}


{% macro weighted_mean_of_known(terms) %}
    {#- Weighted mean of the known terms, weights renormalised over them; null when none is known. -#}
    (({% for name, column, weight in terms %}coalesce({{ weight }} * {{ column }}, 0)
        {{- " + " if not loop.last }}{% endfor %}) / nullif({{ known_weight(terms) }}, 0))
{% endmacro %}


{% macro missing_terms(terms) %}
    {#- The names of the terms that are not known, in the order given (empty when all are). -#}
    list_filter([
        {%- for name, column, weight in terms %}
        case when {{ column }} is null then '{{ name }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ], lambda term: term is not null)
{% endmacro %}


{% macro score_weights(var_name, names) %}
    {#- The var's weights as [[name, weight], ...] in `names` order; every name present, none other,
        each at least 0 and their sum above 0 (they need not sum to 1: the score renormalises). -#}
    {%- set weights = var(var_name) -%}
    {%- if weights is not mapping or (weights.keys() | list | sort) != (names | list | sort) -%}
        {{ exceptions.raise_compiler_error(var_name ~ " must set exactly " ~ (names | join(", ")) ~ ", got " ~ weights) }}
    {%- endif -%}
    {%- set pairs = [] -%}
    {%- for name in names -%}
        {%- set weight = weights[name] -%}
        {%- if weight is not number or weight < 0 -%}
            {{ exceptions.raise_compiler_error(var_name ~ "." ~ name ~ " must be a number >= 0, got " ~ weight) }}
        {%- endif -%}
        {%- do pairs.append([name, weight]) -%}
    {%- endfor -%}
    {%- if pairs | sum(attribute=1) <= 0 -%}
        {{ exceptions.raise_compiler_error(var_name ~ ": the weights must not all be 0") }}
    {%- endif -%}
    {{ return(pairs) }}
{% endmacro %}
