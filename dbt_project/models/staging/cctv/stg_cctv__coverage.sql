with

source as (

    select * from {{ bronze_parquet('cctv', 'coverage') }}

),

renamed as (

    select
        camera_id,
        segment_id,
        district_id,
        clip as clip_id,
        minute_start,
        {{ local_date('minute_start') }} as local_date,
        frames,
        observed_seconds
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
