{% macro run_window() %}
    {#-
        The run's inclusive local dates [min_date, max_date]: vars min_date/max_date when either is
        set (by hand, and in unit tests), else the environment's CITY_MIN_DATE/CITY_MAX_DATE, else
        yesterday for both. Dagster passes the window in the environment: any change of --vars
        makes dbt re-parse the whole project, while an env var read only at execution (never while
        parsing, so dbt records no dependency on it) keeps partial parsing.
    -#}
    {%- set today = modules.datetime.datetime.now(modules.pytz.timezone(var('timezone'))).date() -%}
    {%- set yesterday = (today - modules.datetime.timedelta(days=1)).isoformat() -%}
    {%- if var('min_date') or var('max_date') or not execute -%}
        {%- set min_date, max_date = var('min_date'), var('max_date') -%}
    {%- else -%}
        {%- set min_date = env_var('CITY_MIN_DATE', '') -%}
        {%- set max_date = env_var('CITY_MAX_DATE', '') -%}
    {%- endif -%}
    {%- set start = min_date or max_date or yesterday -%}
    {%- set end = max_date or start -%}
    {%- for value in [start, end] -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
            {{ exceptions.raise_compiler_error("min_date and max_date must be YYYY-MM-DD, got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if start > end -%}
        {{ exceptions.raise_compiler_error("min_date " ~ start ~ " is after max_date " ~ end) }}
    {%- endif -%}
    {{ return([start | string, end | string]) }}
{% endmacro %}


{% macro run_start() %}date '{{ run_window()[0] }}'{% endmacro %}


{% macro run_end() %}date '{{ run_window()[1] }}'{% endmacro %}


{% macro in_run_window(column) %}{{ column }} between {{ run_start() }} and {{ run_end() }}{% endmacro %}


{% macro run_dates() %}
    {#- One row per local date of the run: the spine of models that report every day, data or not. -#}
    (select cast(day as date) as local_date
     from generate_series({{ run_start() }}, {{ run_end() }}, interval 1 day) as spine(day))
{% endmacro %}
