{{ config(materialized='table') }}

with

segments as (

    select * from {{ ref('stg_iot__road_segments') }}

),

loops as (

    select segment_id, count(*) as loop_detectors
    from {{ ref('stg_iot__sensors') }}
    where sensor_kind = 'traffic' and segment_id is not null
    group by 1

),

cameras as (

    select segment_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

final as (

    select
        cast(segments.segment_id as varchar) as segment_id,
        cast(segments.district_id as varchar) as district_id,
        cast(segments.segment_name as varchar) as segment_name,
        cast(segments.lanes as integer) as lanes,
        cast(segments.speed_limit_kmh as integer) as speed_limit_kmh,
        cast(segments.capacity_vph as integer) as capacity_vph,
        cast(segments.length_km as double) as length_km,
        cast(coalesce(loops.loop_detectors, 0) as integer) as loop_detectors,
        cast(coalesce(cameras.cameras, 0) as integer) as cameras,
        cast(loops.loop_detectors is not null or cameras.cameras is not null as boolean) as is_monitored
    from segments
    left join loops on segments.segment_id = loops.segment_id
    left join cameras on segments.segment_id = cameras.segment_id

)

select * from final
