with

source as (

    select * from {{ bronze_parquet('cctv', 'counts') }}

),

renamed as (

    select
        camera_id,
        segment_id,
        district_id,
        clip as clip_id,
        minute_start,
        {{ local_date('minute_start') }} as local_date,
        line_id,
        direction,
        object_class,
        case
            when object_class in ('car', 'bus', 'truck', 'motorbike', 'motorcycle') then 'vehicle'
            when object_class = 'person' then 'pedestrian'
            else 'other'
        end as road_user,
        crossings
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
