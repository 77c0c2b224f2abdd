{% macro hcm_urban_street_los(speed_ratio) %}
    {#-
        Level of service A-F of an urban street from its travel speed as a share of the base
        free-flow speed, motorized vehicle mode: HCM 6th edition (TRB 2016), Exhibit 18-1 (urban
        street segments; Exhibit 16-4 for facilities uses the same bands): A > 80 %, B > 67-80 %,
        C > 50-67 %, D > 40-50 %, E > 30-40 %, F <= 30 %. Null in, null out. The letters sort from
        best to worst, so max() over a set of levels is its worst.
    -#}
    case
        when {{ speed_ratio }} is null then null
        when {{ speed_ratio }} > 0.80 then 'A'
        when {{ speed_ratio }} > 0.67 then 'B'
        when {{ speed_ratio }} > 0.50 then 'C'
        when {{ speed_ratio }} > 0.40 then 'D'
        when {{ speed_ratio }} > 0.30 then 'E'
        else 'F'
    end
{% endmacro %}


{% macro is_congested_los(los) %}({{ los }} in ('E', 'F')){% endmacro %}
