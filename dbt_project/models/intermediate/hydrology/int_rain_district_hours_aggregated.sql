with

readings as (

    -- the run's rain readings, each with its gauge's district as the registry had it then
    select * from {{ ref('int_rain_readings_located') }}
    where {{ in_run_window('local_date') }}

),

gauge_hours as (

    select
        district_id,
        sensor_id,
        date_trunc('hour', observed_at) as hour_start,
        -- mean 5-minute rain x 12: an hourly total that a missing reading does not lower
        avg(rainfall_mm) * 12 as rainfall_mm
    from readings
    group by 1, 2, 3

),

district_hours as (

    select
        district_id,
        hour_start,
        count(*) as rain_gauges,
        avg(rainfall_mm) as rainfall_mm,
        max(rainfall_mm) as max_gauge_rainfall_mm
    from gauge_hours
    group by 1, 2

),

final as (

    select
        district_id,
        {{ local_date('hour_start') }} as local_date,
        hour_start,
        {{ local_hour('hour_start') }} as local_hour,
        cast(rain_gauges as integer) as rain_gauges,
        rainfall_mm,
        max_gauge_rainfall_mm
    from district_hours

)

select * from final
where {{ in_run_window('local_date') }}
