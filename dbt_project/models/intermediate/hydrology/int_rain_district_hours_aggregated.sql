with

readings as (

    select * from {{ ref('stg_iot__rain') }}

),

gauges as (

    select sensor_id, district_id, valid_from, valid_to
    from {{ ref('stg_iot__sensor_versions') }}
    where sensor_kind = 'rain'

),

gauge_hours as (

    select
        gauges.district_id,
        readings.sensor_id,
        date_trunc('hour', readings.observed_at) as hour_start,
        -- mean 5-minute rain x 12: an hourly total that a missing reading does not lower
        avg(readings.rainfall_mm) * 12 as rainfall_mm
    from readings
    inner join gauges
        on readings.sensor_id = gauges.sensor_id and {{ registry_as_of('gauges', 'readings.observed_at') }}
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
