with

source as (

    select * from {{ source('iot', 'sensors') }}

),

renamed as (

    select
        sensor_id,
        kind as sensor_kind,
        district_id,
        segment_id,
        lat as latitude,
        lon as longitude,
        installed_date
    from source

)

select * from renamed
