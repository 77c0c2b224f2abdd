with

readings as (

    select * from {{ ref('int_river_readings_classified') }}
    where {{ in_run_window('local_date') }}

),

gauge_hours as (

    select
        sensor_id,
        any_value(district_id) as district_id,
        any_value(river_name) as river_name,
        date_trunc('hour', observed_at) as hour_start,
        count(*) as readings,
        max(level_m) as max_level_m,
        avg(level_m) as mean_level_m,
        any_value(attention_level_m) as attention_level_m,
        any_value(warning_level_m) as warning_level_m,
        any_value(alarm_level_m) as alarm_level_m,
        max(stage_rank) as stage_rank
    from readings
    group by sensor_id, date_trunc('hour', observed_at)

),

rain as (

    select * from {{ ref('int_rain_district_hours_aggregated') }}
    where {{ in_run_window('local_date') }}

),

final as (

    select
        cast(gauge_hours.sensor_id as varchar) as sensor_id,
        cast(gauge_hours.district_id as varchar) as district_id,
        cast(gauge_hours.river_name as varchar) as river_name,
        cast({{ local_date('gauge_hours.hour_start') }} as date) as local_date,
        cast(gauge_hours.hour_start as timestamp with time zone) as hour_start,
        cast({{ local_hour('gauge_hours.hour_start') }} as integer) as local_hour,
        cast(gauge_hours.readings as integer) as readings,
        cast(gauge_hours.max_level_m as double) as max_level_m,
        cast(gauge_hours.mean_level_m as double) as mean_level_m,
        cast(gauge_hours.attention_level_m as double) as attention_level_m,
        cast(gauge_hours.warning_level_m as double) as warning_level_m,
        cast(gauge_hours.alarm_level_m as double) as alarm_level_m,
        cast(gauge_hours.max_level_m - gauge_hours.warning_level_m as double) as margin_to_warning_m,
        cast(['normal', 'attention', 'warning', 'alarm'][gauge_hours.stage_rank + 1] as varchar) as flood_stage,
        cast(rain.rainfall_mm as double) as district_rainfall_mm,
        cast(rain.max_gauge_rainfall_mm as double) as max_gauge_rainfall_mm,
        -- hourly intensity classes of the Korea Meteorological Administration
        cast(case
            when rain.max_gauge_rainfall_mm is null then null
            when rain.max_gauge_rainfall_mm < 0.1 then 'none'
            when rain.max_gauge_rainfall_mm < 3 then 'light'
            when rain.max_gauge_rainfall_mm < 15 then 'moderate'
            when rain.max_gauge_rainfall_mm < 30 then 'heavy'
            else 'very_heavy'
        end as varchar) as rainfall_intensity
    from gauge_hours
    left join rain
        on gauge_hours.district_id = rain.district_id
        and gauge_hours.hour_start = rain.hour_start

)

select * from final
