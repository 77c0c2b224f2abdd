with

counts as (

    select * from {{ ref('stg_cctv__counts') }}

),

camera_hours as (

    select
        camera_id,
        any_value(segment_id) as segment_id,
        any_value(district_id) as district_id,
        date_trunc('hour', minute_start) as hour_start,
        count(distinct minute_start) as observed_minutes,
        coalesce(sum(crossings) filter (where road_user = 'vehicle'), 0) as vehicle_crossings,
        coalesce(sum(crossings) filter (where road_user = 'pedestrian'), 0) as pedestrian_crossings
    from counts
    group by camera_id, date_trunc('hour', minute_start)

),

final as (

    select
        camera_id,
        segment_id,
        district_id,
        {{ local_date('hour_start') }} as local_date,
        hour_start,
        {{ local_hour('hour_start') }} as local_hour,
        cast(observed_minutes as integer) as observed_minutes,
        cast(vehicle_crossings as bigint) as vehicle_crossings,
        cast(pedestrian_crossings as bigint) as pedestrian_crossings,
        -- clips cover part of an hour: scale the minutes seen to a full hour
        cast(vehicle_crossings * 60.0 / observed_minutes as double) as vehicle_volume_vph,
        cast(pedestrian_crossings * 60.0 / observed_minutes as double) as pedestrian_volume_ph
    from camera_hours

)

select * from final
where {{ in_run_window('local_date') }}
