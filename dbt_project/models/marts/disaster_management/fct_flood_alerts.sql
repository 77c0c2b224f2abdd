{%- set max_gap = "interval 15 minutes" -%}

with

elevated as (

    -- readings at or above the gauge's attention level
    select * from {{ ref('int_river_readings_classified') }}
    where {{ in_run_window('local_date') }} and stage_rank >= 1

),

episodes as (

    -- a new episode starts when the previous elevated reading is more than {{ max_gap }} back,
    -- so one or two missing readings do not split an alert; alerts are cut at local midnight
    select
        *,
        sum(case when previous_at is null or observed_at - previous_at > {{ max_gap }} then 1 else 0 end)
            over (partition by sensor_id, local_date order by observed_at) as episode_no
    from (
        select
            *,
            lag(observed_at) over (partition by sensor_id, local_date order by observed_at) as previous_at
        from elevated
    )

),

alerts as (

    select
        sensor_id,
        local_date,
        episode_no,
        any_value(district_id) as district_id,
        any_value(river_name) as river_name,
        max(stage_rank) as stage_rank,
        min(observed_at) as start_at,
        min(observed_at) filter (where stage_rank >= 2) as warning_at,
        min(observed_at) filter (where stage_rank >= 3) as alarm_at,
        arg_max(observed_at, level_m) as peak_at,
        max(level_m) as peak_level_m,
        max(observed_at) as end_at,
        count(*) as readings,
        any_value(warning_level_m) as warning_level_m,
        any_value(alarm_level_m) as alarm_level_m
    from episodes
    group by 1, 2, 3

),

rain as (

    select * from {{ ref('int_rain_district_hours_aggregated') }}
    where local_date between {{ run_start() }} - interval 1 day and {{ run_end() }}

),

rain_before_peak as (

    select
        alerts.sensor_id,
        alerts.start_at,
        sum(rain.rainfall_mm) as rainfall_6h_before_peak_mm,
        max(rain.max_gauge_rainfall_mm) as max_hourly_rainfall_mm
    from alerts
    inner join rain
        on alerts.district_id = rain.district_id
        and rain.hour_start between date_trunc('hour', alerts.peak_at) - interval 6 hours
            and date_trunc('hour', alerts.peak_at)
    group by 1, 2

),

final as (

    select
        cast(alerts.sensor_id || '@' || strftime({{ local_timestamp('alerts.start_at') }}, '%Y-%m-%dT%H:%M')
            as varchar) as alert_id,
        cast(alerts.sensor_id as varchar) as sensor_id,
        cast(alerts.district_id as varchar) as district_id,
        cast(alerts.river_name as varchar) as river_name,
        cast(alerts.local_date as date) as local_date,
        cast(['normal', 'attention', 'warning', 'alarm'][alerts.stage_rank + 1] as varchar) as alert_level,
        cast(alerts.start_at as timestamp with time zone) as start_at,
        cast(alerts.warning_at as timestamp with time zone) as warning_at,
        cast(alerts.alarm_at as timestamp with time zone) as alarm_at,
        cast(alerts.peak_at as timestamp with time zone) as peak_at,
        cast(alerts.peak_level_m as double) as peak_level_m,
        cast(alerts.end_at as timestamp with time zone) as end_at,
        cast(date_diff('minute', alerts.start_at, alerts.end_at) + 5 as integer) as duration_minutes,
        cast(alerts.readings as integer) as readings,
        cast(alerts.warning_level_m as double) as warning_level_m,
        cast(alerts.alarm_level_m as double) as alarm_level_m,
        cast(coalesce(rain_before_peak.rainfall_6h_before_peak_mm, 0) as double) as rainfall_6h_before_peak_mm,
        cast(rain_before_peak.max_hourly_rainfall_mm as double) as max_hourly_rainfall_mm,
        -- still elevated in the day's last quarter hour: the next day's partition continues it
        cast({{ local_timestamp('alerts.end_at') }} >= cast(alerts.local_date as timestamp) + interval 1425 minutes
            as boolean) as is_open_at_day_end
    from alerts
    left join rain_before_peak
        on alerts.sensor_id = rain_before_peak.sensor_id
        and alerts.start_at = rain_before_peak.start_at

)

select * from final
