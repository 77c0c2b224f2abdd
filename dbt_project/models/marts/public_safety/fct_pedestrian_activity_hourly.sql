with

camera_hours as (

    select * from {{ ref('int_camera_hours_aggregated') }}
    where {{ in_run_window('local_date') }}

),

district_hours as (

    select
        district_id,
        local_date,
        hour_start,
        local_hour,
        count(*) as cameras_reporting,
        sum(observed_minutes) as observed_minutes,
        sum(pedestrian_crossings) as pedestrian_crossings,
        sum(pedestrian_volume_ph) as pedestrians_per_hour,
        sum(vehicle_crossings) as vehicle_crossings
    from camera_hours
    group by 1, 2, 3, 4

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(hour_start as timestamp with time zone) as hour_start,
        cast(local_hour as integer) as local_hour,
        cast({{ is_night('local_hour') }} as boolean) as is_night,
        cast(cameras_reporting as integer) as cameras_reporting,
        cast(observed_minutes as double) as observed_minutes,
        cast(pedestrian_crossings as bigint) as pedestrian_crossings,
        cast(pedestrians_per_hour as double) as pedestrians_per_hour,
        -- per camera-hour of footage: comparable between districts with different numbers of cameras
        cast(pedestrian_crossings * 60.0 / nullif(observed_minutes, 0) as double) as pedestrians_per_camera_hour,
        cast(vehicle_crossings as bigint) as vehicle_crossings
    from district_hours

)

select * from final
