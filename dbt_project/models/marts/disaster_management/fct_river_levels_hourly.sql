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

gauge_rain_hours as (

    -- each rain gauge's hourly total: the sum of its 5-minute readings (the day before too: 12 h back)
    select sensor_id, district_id, date_trunc('hour', observed_at) as hour_start, sum(rainfall_mm) as rainfall_mm
    from {{ ref('int_rain_readings_located') }}
    where local_date between {{ run_start() }} - interval 1 day and {{ run_end() }}
    group by 1, 2, 3

),

accumulations as (

    -- KMA's heavy-rain criteria accumulate at a station: each gauge's 3 and 12 hours ending with
    -- the hour, then the district's wettest gauge
    select
        district_id,
        hour_start,
        max(rainfall_3h_mm) as rainfall_3h_mm,
        max(rainfall_12h_mm) as rainfall_12h_mm
    from (
        select
            district_id,
            hour_start,
            sum(rainfall_mm) over (
                partition by sensor_id order by hour_start range between interval 2 hours preceding and current row
            ) as rainfall_3h_mm,
            sum(rainfall_mm) over (
                partition by sensor_id order by hour_start range between interval 11 hours preceding and current row
            ) as rainfall_12h_mm
        from gauge_rain_hours
    )
    group by 1, 2

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
        end as varchar) as rainfall_intensity,
        cast(accumulations.rainfall_3h_mm as double) as rainfall_3h_mm,
        cast(accumulations.rainfall_12h_mm as double) as rainfall_12h_mm,
        -- KMA heavy-rain warning criteria (호우특보), applied to observed accumulations
        cast(case
            when accumulations.rainfall_3h_mm is null then null
            when accumulations.rainfall_3h_mm >= 90 or accumulations.rainfall_12h_mm >= 180 then 'warning'
            when accumulations.rainfall_3h_mm >= 60 or accumulations.rainfall_12h_mm >= 110 then 'advisory'
            else 'none'
        end as varchar) as heavy_rain_level
    from gauge_hours
    left join rain
        on gauge_hours.district_id = rain.district_id
        and gauge_hours.hour_start = rain.hour_start
    left join accumulations
        on gauge_hours.district_id = accumulations.district_id
        and gauge_hours.hour_start = accumulations.hour_start

)

select * from final
