{% macro local_timestamp(column) %}timezone('{{ var("timezone") }}', {{ column }}){% endmacro %}


{% macro local_date(column) %}cast({{ local_timestamp(column) }} as date){% endmacro %}


{% macro local_hour(column) %}cast(hour({{ local_timestamp(column) }}) as integer){% endmacro %}


{% macro is_night(hour_column) %}({{ hour_column }} >= 22 or {{ hour_column }} < 6){% endmacro %}
