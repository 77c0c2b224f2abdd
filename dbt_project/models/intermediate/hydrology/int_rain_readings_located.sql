with

readings as (

    select * from {{ ref('stg_iot__rain') }}

),

gauges as (

    select sensor_id, district_id
    from {{ ref('stg_iot__sensors') }}
    where sensor_kind = 'rain'

),

final as (

    select
        readings.sensor_id,
        gauges.district_id,
        readings.local_date,
        readings.observed_at,
        readings.rainfall_mm
    from readings
    inner join gauges on readings.sensor_id = gauges.sensor_id

)

select * from final
where {{ in_run_window('local_date') }}
