{#-
    Korea's Comprehensive Air-quality Index (CAI, 통합대기환경지수), as published by the Ministry of
    Environment / Korea Environment Corporation (AirKorea). A pollutant's sub-index interpolates
    linearly inside the band its concentration falls in:

        I = (I_hi - I_lo) / (BP_hi - BP_lo) * (C - BP_lo) + I_lo

    Sub-indices are rounded to the nearest integer and capped at 500. PM10 and PM2.5 use 24-hour
    concentrations, NO2 and O3 1-hour means (PM2.5 bands as revised on 2018-03-27). The CAI is the
    highest sub-index, and AirKorea computes it only when PM10, PM2.5, NO2 and O3 are all present
    (CAI calculator, https://www.airkorea.or.kr/web/caiCalculator?pMENU_NO=147).

    Concentrations are truncated to the resolution the breakpoints are written in (integer ug/m3
    for particulates, 0.001 ppm for gases) before the bands are looked up: the bands leave gaps at
    that resolution (30 | 31 ug/m3) that a raw mean could fall into. AirKorea publishes no rounding
    rule of its own; truncation (not rounding) follows the US EPA's AQI convention (AirNow, "The AQI
    Equation": concentrations truncated to 1 ug/m3 for PM10 and 0.001 ppm for O3,
    https://forum.airnowtech.org/t/the-aqi-equation-2024-valid-beginning-may-6th-2024/453).

    Add-on for combined exposure (AirKorea, https://www.airkorea.or.kr/eng/khaiInfo?pMENU_NO=166;
    Korean page https://www.airkorea.or.kr/web/khaiInfo?pMENU_NO=129): when two pollutants are in
    the unhealthy (나쁨) band or worse (sub-index 101 and above), 50 points are added to the highest
    sub-index; when three or more are, 75 points. Only the four pollutants this platform measures
    are counted (AirKorea also counts SO2 and CO). The result stays on the published 0-500 scale
    (capped at 500), and the category is read from the final value, add-on included.

    Real-time particulates: AirKorea's hourly CAI rates PM10 and PM2.5 on the 24-hour predicted
    moving average (24시간 예측이동평균, C24E), published with its CAI calculator:

        C24E = (C12 * 12 + C4 * 12) / 24
        C12  = mean of the last 12 hours (the hour itself included)
        C4   = (Ca_i + Ca_i-1 + Ca_i-2 + Ca_i-3) / 4
        Ca_i = 0.75 * C_i  when C_i >= M and 0.9 <= C_i / C12 <= 1.7, else C_i
        M    = 70 ug/m3 for PM10, 30 ug/m3 for PM2.5

    Each hour's Ca is computed at that hour (with that hour's own C12), as the definition reads for
    any reference hour i. The page states no minimum of hours; cai_min_hours() holds the ones used.
-#}

{% macro cai_index_bands() %}
    {{ return([[0, 50], [51, 100], [101, 250], [251, 500]]) }}
{% endmacro %}


{% macro cai_breakpoints() %}
    {{ return({
        'pm10': {'decimals': 0, 'bands': [[0, 30], [31, 80], [81, 150], [151, 600]]},
        'pm25': {'decimals': 0, 'bands': [[0, 15], [16, 35], [36, 75], [76, 500]]},
        'no2': {'decimals': 3, 'bands': [[0, 0.030], [0.031, 0.060], [0.061, 0.200], [0.201, 2.000]]},
        'o3': {'decimals': 3, 'bands': [[0, 0.030], [0.031, 0.090], [0.091, 0.150], [0.151, 0.600]]},
    }) }}
{% endmacro %}


{% macro cai_min_hours() %}
    {#-
        Hours a particulate mean needs, else it is null (and so is the CAI it would rate): 75 % of
        its window: the US rule for a 24-hour PM mean from hourly data (40 CFR Part 50, Appendix N:
        18 of its 24 hours), the same 75 % data capture below which Korea's annual air-quality
        report (환경부 대기환경연보) leaves a station out. Applied to the 12- and 4-hour terms of C24E
        by this platform: AirKorea publishes no minimum for them.
    -#}
    {{ return({'24h': 18, '12h': 9, '4h': 3}) }}
{% endmacro %}


{% macro cai_trend_adjusted(pollutant, concentration, mean_12h) %}
    {#- AirKorea's Ca of one hour: 0.75 x C when C >= M and 0.9 <= C / C12 <= 1.7, else C itself. -#}
    {%- set threshold = {'pm10': 70, 'pm25': 30}[pollutant] -%}
    case
        when {{ concentration }} >= {{ threshold }}
            and {{ concentration }} / {{ mean_12h }} between 0.9 and 1.7
            then 0.75 * {{ concentration }}
        else {{ concentration }}
    end
{% endmacro %}


{% macro cai_sub_index(pollutant, concentration) %}
    {#- Integer sub-index (0-500) of one pollutant; null when the concentration is null. -#}
    {%- set spec = cai_breakpoints()[pollutant] -%}
    {%- set scale = 10 ** spec['decimals'] -%}
    {#- round() before floor() so 0.045 stored as 0.04499999 still truncates to 0.045 -#}
    {%- set c = "(floor(round((" ~ concentration ~ ") * " ~ scale ~ ", 6)) / " ~ scale ~ ")" -%}
    case
        when {{ concentration }} is null then null
        {%- for band in spec['bands'] %}
        {%- set index = cai_index_bands()[loop.index0] %}
        when {{ c }} <= {{ band[1] }} then cast(round(
            ({{ index[1] }} - {{ index[0] }}) / ({{ band[1] }} - {{ band[0] }}) * ({{ c }} - {{ band[0] }})
            + {{ index[0] }}) as integer)
        {%- endfor %}
        else 500
    end
{% endmacro %}


{% macro cai_category(index) %}
    case
        when {{ index }} is null then null
        when {{ index }} <= 50 then 'good'
        when {{ index }} <= 100 then 'moderate'
        when {{ index }} <= 250 then 'unhealthy'
        else 'very_unhealthy'
    end
{% endmacro %}


{% macro cai_category_ko(index) %}
    case
        when {{ index }} is null then null
        when {{ index }} <= 50 then '좋음'
        when {{ index }} <= 100 then '보통'
        when {{ index }} <= 250 then '나쁨'
        else '매우나쁨'
    end
{% endmacro %}


{% macro cai_unhealthy_pollutants(pm10_index, pm25_index, no2_index, o3_index) %}
    {#- How many of the four sub-indices are unhealthy (나쁨) or worse: above 100. -#}
    (
        {%- for index in [pm10_index, pm25_index, no2_index, o3_index] %}
        cast(coalesce({{ index }} > 100, false) as integer){{ " +" if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}


{% macro cai_addon(pm10_index, pm25_index, no2_index, o3_index) %}
    {#- Points added to the highest sub-index: 50 for two unhealthy pollutants, 75 for three or more. -#}
    {%- set unhealthy = cai_unhealthy_pollutants(pm10_index, pm25_index, no2_index, o3_index) -%}
    case
        when {{ unhealthy }} >= 3 then 75
        when {{ unhealthy }} = 2 then 50
        else 0
    end
{% endmacro %}


{% macro cai(pm10_index, pm25_index, no2_index, o3_index) %}
    {#- The CAI: the highest sub-index plus the add-on, capped at 500; only when all four are present. -#}
    case
        when {{ pm10_index }} is null or {{ pm25_index }} is null
            or {{ no2_index }} is null or {{ o3_index }} is null then null
        else least(
            500,
            greatest({{ pm10_index }}, {{ pm25_index }}, {{ no2_index }}, {{ o3_index }})
            + {{ cai_addon(pm10_index, pm25_index, no2_index, o3_index) }}
        )
    end
{% endmacro %}


{% macro cai_scores(pm10_index='pm10_index', pm25_index='pm25_index', no2_index='no2_index', o3_index='o3_index') %}
    {#- The CAI with the two columns that explain its add-on, for a select list. -#}
    {{ cai(pm10_index, pm25_index, no2_index, o3_index) }} as cai,
    {{ cai_unhealthy_pollutants(pm10_index, pm25_index, no2_index, o3_index) }} as unhealthy_pollutants,
    {{ cai_addon(pm10_index, pm25_index, no2_index, o3_index) }} as addon
{% endmacro %}


{% macro cai_main_pollutant(pm10_index, pm25_index, no2_index, o3_index) %}
    {#- The pollutant whose sub-index sets the CAI (particulates first on a tie); null with the CAI. -#}
    case (case
        when {{ pm10_index }} is null or {{ pm25_index }} is null
            or {{ no2_index }} is null or {{ o3_index }} is null then null
        else greatest({{ pm10_index }}, {{ pm25_index }}, {{ no2_index }}, {{ o3_index }})
    end)
        when {{ pm25_index }} then 'pm25'
        when {{ pm10_index }} then 'pm10'
        when {{ o3_index }} then 'o3'
        when {{ no2_index }} then 'no2'
    end
{% endmacro %}
