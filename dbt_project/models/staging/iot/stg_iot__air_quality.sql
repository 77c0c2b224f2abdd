with

source as (

    select * from {{ bronze_parquet('iot', 'air_quality') }}

),

renamed as (

    select
        sensor_id,
        observed_at,
        {{ local_date('observed_at') }} as local_date,
        pm10 as pm10_ugm3,
        pm25 as pm25_ugm3,
        no2 as no2_ppm,
        o3 as o3_ppm
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
