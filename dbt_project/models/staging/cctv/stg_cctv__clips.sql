with

listing as (

    select file from {{ bronze_file_listing('cctv', 'counts') }}

),

parsed as (

    select
        regexp_extract(file, '/camera=([^/]+)/', 1) as camera_id,
        cast(regexp_extract(file, '/date=([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) as date) as local_date,
        cast(regexp_extract(file, '/hour=([0-9]{2})/', 1) as integer) as local_hour,
        regexp_extract(file, '([^/]+)\.parquet$', 1) as clip_id,
        file as object_uri
    from listing

)

select * from parsed
where {{ in_run_window('local_date') }}
