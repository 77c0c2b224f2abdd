with

source as (

    select * from {{ bronze_parquet('iot', 'noise') }}

),

renamed as (

    select
        sensor_id,
        observed_at,
        {{ local_date('observed_at') }} as local_date,
        laeq_db,
        lamax_db
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
