with

source as (

    select * from {{ bronze_parquet('iot', 'river_level') }}

),

renamed as (

    select
        sensor_id,
        observed_at,
        {{ local_date('observed_at') }} as local_date,
        level_m
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
