with

source as (

    select * from {{ bronze_parquet('iot', 'rain') }}

),

renamed as (

    select
        sensor_id,
        observed_at,
        {{ local_date('observed_at') }} as local_date,
        rainfall_mm
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
