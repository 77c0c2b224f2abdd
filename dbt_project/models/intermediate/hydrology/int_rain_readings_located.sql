with

readings as (

    select * from {{ ref('stg_iot__rain') }}

),

gauges as (

    select sensor_id, district_id, valid_from, valid_to
    from {{ ref('stg_iot__sensor_versions') }}
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
    -- the gauge's district as the registry had it when the reading was observed
    inner join gauges
        on readings.sensor_id = gauges.sensor_id and {{ registry_as_of('gauges', 'readings.observed_at') }}

)

select * from final
where {{ in_run_window('local_date') }}
