{% macro local_timestamp(column) %}timezone('{{ var("timezone") }}', {{ column }}){% endmacro %}


{% macro local_date(column) %}cast({{ local_timestamp(column) }} as date){% endmacro %}


{% macro local_hour(column) %}cast(hour({{ local_timestamp(column) }}) as integer){% endmacro %}


{#-
    Day 06:00-22:00 and night 22:00-06:00, the periods of Korea's environmental noise standard
    (환경정책기본법 시행령 [별표 1] 2. 소음: 낮 06:00~22:00, 밤 22:00~06:00).
-#}
{% macro is_night(hour_column) %}({{ hour_column }} >= 22 or {{ hour_column }} < 6){% endmacro %}


{% macro period_date(date_column, hour_column) %}
    {#-
        The date a day or night period is filed under: a night under the morning it ends, so
        22:00-24:00 of D opens the night of D+1 and night D is 22:00 of D-1 to 06:00 of D (complete
        once D has ended); a day under its own date.
    -#}
    cast(case when {{ hour_column }} >= 22 then {{ date_column }} + interval 1 day else {{ date_column }} end as date)
{% endmacro %}


{% macro period_bound(date_column, period_column, bound) %}
    {#- The instant a day or night period filed under a date (see period_date) starts or ends. -#}
    {%- set hours = {'start': (6, -2), 'end': (22, 6)}[bound] -%}
    timezone('{{ var("timezone") }}', cast({{ date_column }} as timestamp) + case
        when {{ period_column }} = 'day' then interval {{ hours[0] }} hour
        else interval ({{ hours[1] }}) hour
    end)
{% endmacro %}


{#-
    The night of local date D runs from 22:00 on D-1 to 06:00 on D (city time): the night that ends
    on the morning of D. One night, never pieces of two; the build of D completes it from the
    hourly marts' rows of D-1 (22:00-23:59) and D (00:00-05:59).
-#}
{% macro night_date(date_column, hour_column) %}cast(case when {{ hour_column }} >= 22 then {{ date_column }} + interval 1 day else {{ date_column }} end as date){% endmacro %}


{% macro night_start(night_date) %}timezone('{{ var("timezone") }}', cast({{ night_date }} - interval 1 day as timestamp) + interval 22 hour){% endmacro %}


{% macro night_end(night_date) %}timezone('{{ var("timezone") }}', cast({{ night_date }} as timestamp) + interval 6 hour){% endmacro %}


{% macro in_run_nights(date_column, hour_column) %}
    {#- Rows of the hours that make up the run's nights: 22:00 of the day before the window on. -#}
    {{ date_column }} between {{ run_start() }} - interval 1 day and {{ run_end() }}
    and {{ is_night(hour_column) }}
    and {{ night_date(date_column, hour_column) }} between {{ run_start() }} and {{ run_end() }}
{% endmacro %}
