{{ config(materialized='table') }}

with

districts as (

    select * from {{ ref('stg_iot__districts') }}

),

sensors as (

    select district_id, count(*) as iot_sensors
    from {{ ref('stg_iot__sensors') }}
    group by 1

),

cameras as (

    select district_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

segments as (

    select district_id, count(*) as road_segments
    from {{ ref('stg_iot__road_segments') }}
    group by 1

),

final as (

    select
        cast(districts.district_id as varchar) as district_id,
        cast(districts.district_name as varchar) as district_name,
        cast(districts.zone_type as varchar) as zone_type,
        cast(districts.population as bigint) as population,
        cast(districts.area_km2 as double) as area_km2,
        cast(districts.population / districts.area_km2 as double) as population_density_per_km2,
        cast(districts.latitude as double) as latitude,
        cast(districts.longitude as double) as longitude,
        cast(districts.noise_limit_day_db as double) as noise_limit_day_db,
        cast(districts.noise_limit_night_db as double) as noise_limit_night_db,
        cast(coalesce(sensors.iot_sensors, 0) as integer) as iot_sensors,
        cast(coalesce(cameras.cameras, 0) as integer) as cameras,
        cast(coalesce(segments.road_segments, 0) as integer) as road_segments
    from districts
    left join sensors on districts.district_id = sensors.district_id
    left join cameras on districts.district_id = cameras.district_id
    left join segments on districts.district_id = segments.district_id

)

select * from final
