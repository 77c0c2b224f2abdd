with

readings as (

    select * from {{ ref('stg_iot__air_quality') }}

),

stations as (

    select sensor_id, district_id, valid_from, valid_to
    from {{ ref('stg_iot__sensor_versions') }}
    where sensor_kind = 'air_quality'

),

district_hours as (

    select
        stations.district_id,
        date_trunc('hour', readings.observed_at) as hour_start,
        count(distinct readings.sensor_id) as stations_reporting,
        count(*) as readings,
        avg(readings.pm10_ugm3) as pm10_ugm3,
        avg(readings.pm25_ugm3) as pm25_ugm3,
        avg(readings.no2_ppm) as no2_ppm,
        avg(readings.o3_ppm) as o3_ppm
    from readings
    inner join stations
        on readings.sensor_id = stations.sensor_id and {{ registry_as_of('stations', 'readings.observed_at') }}
    group by 1, 2

),

final as (

    select
        district_id,
        {{ local_date('hour_start') }} as local_date,
        hour_start,
        {{ local_hour('hour_start') }} as local_hour,
        cast(stations_reporting as integer) as stations_reporting,
        cast(readings as integer) as readings,
        pm10_ugm3,
        pm25_ugm3,
        no2_ppm,
        o3_ppm
    from district_hours

)

select * from final
where {{ in_run_window('local_date') }}
