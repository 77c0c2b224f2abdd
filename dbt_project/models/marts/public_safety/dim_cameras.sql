{{ config(materialized='table') }}

with

cameras as (

    select * from {{ ref('stg_cctv__cameras') }}

),

segments as (

    select segment_id, segment_name from {{ ref('stg_iot__road_segments') }}

),

final as (

    select
        cast(cameras.camera_id as varchar) as camera_id,
        cast(cameras.segment_id as varchar) as segment_id,
        cast(segments.segment_name as varchar) as segment_name,
        cast(cameras.district_id as varchar) as district_id,
        cast(cameras.frame_stride as integer) as frame_stride,
        cast(cameras.counting_line_ids as varchar[]) as counting_line_ids,
        cast(cameras.zone_ids as varchar[]) as zone_ids
    from cameras
    left join segments on cameras.segment_id = segments.segment_id

)

select * from final
