{{ config(materialized='table') }}

with

sensors as (

    select * from {{ ref('stg_iot__sensors') }}

),

gauges as (

    select * from {{ ref('stg_iot__river_gauges') }}

),

final as (

    select
        cast(sensors.sensor_id as varchar) as sensor_id,
        cast(sensors.sensor_kind as varchar) as sensor_kind,
        cast(sensors.district_id as varchar) as district_id,
        cast(sensors.segment_id as varchar) as segment_id,
        cast(sensors.latitude as double) as latitude,
        cast(sensors.longitude as double) as longitude,
        cast(sensors.installed_date as date) as installed_date,
        cast(gauges.river_name as varchar) as river_name,
        cast(gauges.attention_level_m as double) as attention_level_m,
        cast(gauges.warning_level_m as double) as warning_level_m,
        cast(gauges.alarm_level_m as double) as alarm_level_m
    from sensors
    left join gauges on sensors.sensor_id = gauges.sensor_id

)

select * from final
