with

source as (

    select * from {{ ref('cctv_cameras') }}

),

renamed as (

    select
        camera_id,
        segment_id,
        district_id,
        frame_stride,
        string_split(counting_lines, ';') as counting_line_ids,
        string_split(zones, ';') as zone_ids
    from source

)

select * from renamed
