{%- set min_hours = cai_min_hours() -%}

with

district_hours as (

    select * from {{ ref('int_air_quality_district_hours_aggregated') }}
    -- the day before the run supplies the 12- and 24-hour windows of the run's first hours
    where local_date between {{ run_start() }} - interval 1 day and {{ run_end() }}

),

windowed as (

    -- an hour counts towards a window when it has both particulates
    select
        *,
        avg(pm10_ugm3) over last_12_hours as pm10_12h_ugm3,
        avg(pm25_ugm3) over last_12_hours as pm25_12h_ugm3,
        count(pm10_ugm3 + pm25_ugm3) over last_12_hours as hours_in_12h_mean,
        avg(pm10_ugm3) over last_24_hours as pm10_24h_mean_ugm3,
        avg(pm25_ugm3) over last_24_hours as pm25_24h_mean_ugm3,
        count(pm10_ugm3 + pm25_ugm3) over last_24_hours as hours_in_24h_mean
    from district_hours
    window
        last_12_hours as (
            partition by district_id order by hour_start
            range between interval 11 hours preceding and current row
        ),
        last_24_hours as (
            partition by district_id order by hour_start
            range between interval 23 hours preceding and current row
        )

),

adjusted as (

    -- AirKorea's Ca: the hour damped to 0.75 x when high and rising moderately against its 12 hours
    select
        *,
        {{ cai_trend_adjusted('pm10', 'pm10_ugm3', 'pm10_12h_ugm3') }} as pm10_adjusted_ugm3,
        {{ cai_trend_adjusted('pm25', 'pm25_ugm3', 'pm25_12h_ugm3') }} as pm25_adjusted_ugm3
    from windowed

),

trended as (

    select
        *,
        avg(pm10_adjusted_ugm3) over last_4_hours as pm10_4h_adjusted_ugm3,
        avg(pm25_adjusted_ugm3) over last_4_hours as pm25_4h_adjusted_ugm3,
        count(pm10_adjusted_ugm3 + pm25_adjusted_ugm3) over last_4_hours as hours_in_4h_mean
    from adjusted
    window last_4_hours as (
        partition by district_id order by hour_start
        range between interval 3 hours preceding and current row
    )

),

predicted as (

    select
        *,
        hours_in_12h_mean >= {{ min_hours['12h'] }} and hours_in_4h_mean >= {{ min_hours['4h'] }}
            as predicted_complete,
        -- C24E = (C12 x 12 + C4 x 12) / 24
        case when predicted_complete then (pm10_12h_ugm3 + pm10_4h_adjusted_ugm3) / 2 end
            as pm10_24h_predicted_ugm3,
        case when predicted_complete then (pm25_12h_ugm3 + pm25_4h_adjusted_ugm3) / 2 end
            as pm25_24h_predicted_ugm3,
        case when hours_in_24h_mean >= {{ min_hours['24h'] }} then pm10_24h_mean_ugm3 end
            as pm10_24h_trailing_ugm3,
        case when hours_in_24h_mean >= {{ min_hours['24h'] }} then pm25_24h_mean_ugm3 end
            as pm25_24h_trailing_ugm3
    from trended
    where {{ in_run_window('local_date') }}

),

indexed as (

    select
        *,
        {{ cai_sub_index('pm10', 'pm10_24h_predicted_ugm3') }} as pm10_index,
        {{ cai_sub_index('pm25', 'pm25_24h_predicted_ugm3') }} as pm25_index,
        {{ cai_sub_index('no2', 'no2_ppm') }} as no2_index,
        {{ cai_sub_index('o3', 'o3_ppm') }} as o3_index
    from predicted

),

scored as (

    select
        *,
        {{ cai_scores() }}
    from indexed

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(hour_start as timestamp with time zone) as hour_start,
        cast(local_hour as integer) as local_hour,
        cast(stations_reporting as integer) as stations_reporting,
        cast(pm10_ugm3 as double) as pm10_ugm3,
        cast(pm25_ugm3 as double) as pm25_ugm3,
        cast(pm10_12h_ugm3 as double) as pm10_12h_ugm3,
        cast(pm25_12h_ugm3 as double) as pm25_12h_ugm3,
        cast(hours_in_12h_mean as integer) as hours_in_12h_mean,
        cast(pm10_4h_adjusted_ugm3 as double) as pm10_4h_adjusted_ugm3,
        cast(pm25_4h_adjusted_ugm3 as double) as pm25_4h_adjusted_ugm3,
        cast(hours_in_4h_mean as integer) as hours_in_4h_mean,
        cast(pm10_24h_predicted_ugm3 as double) as pm10_24h_predicted_ugm3,
        cast(pm25_24h_predicted_ugm3 as double) as pm25_24h_predicted_ugm3,
        cast(pm10_24h_trailing_ugm3 as double) as pm10_24h_trailing_ugm3,
        cast(pm25_24h_trailing_ugm3 as double) as pm25_24h_trailing_ugm3,
        cast(hours_in_24h_mean as integer) as hours_in_24h_mean,
        cast(no2_ppm as double) as no2_ppm,
        cast(o3_ppm as double) as o3_ppm,
        cast(pm10_index as integer) as pm10_index,
        cast(pm25_index as integer) as pm25_index,
        cast(no2_index as integer) as no2_index,
        cast(o3_index as integer) as o3_index,
        cast(unhealthy_pollutants as integer) as unhealthy_pollutants,
        cast(case when cai is not null then addon end as integer) as cai_addon,
        cast(cai as integer) as cai,
        -- the category of the final value, add-on included
        cast({{ cai_category('cai') }} as varchar) as cai_category,
        cast({{ cai_main_pollutant('pm10_index', 'pm25_index', 'no2_index', 'o3_index') }} as varchar)
            as main_pollutant,
        cast(case
            when hours_in_12h_mean < {{ min_hours['12h'] }}
                then 'particulates in ' || hours_in_12h_mean || ' of the last 12 hours (needs {{ min_hours['12h'] }})'
            when hours_in_4h_mean < {{ min_hours['4h'] }}
                then 'particulates in ' || hours_in_4h_mean || ' of the last 4 hours (needs {{ min_hours['4h'] }})'
            when no2_ppm is null then 'no NO2 reading in the hour'
            when o3_ppm is null then 'no O3 reading in the hour'
        end as varchar) as cai_null_reason
    from scored

)

select * from final
