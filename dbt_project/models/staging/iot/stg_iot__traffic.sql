with

source as (

    select * from {{ bronze_parquet('iot', 'traffic') }}

),

renamed as (

    select
        sensor_id,
        observed_at,
        {{ local_date('observed_at') }} as local_date,
        vehicle_count,
        case when vehicle_count > 0 then mean_speed_kmh end as mean_speed_kmh,
        occupancy_pct
    from source

)

select * from renamed
where {{ in_run_window('local_date') }}
