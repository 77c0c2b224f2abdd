with

source as (

    select * from {{ source('iot', 'road_segments') }}

),

renamed as (

    select
        segment_id,
        district_id,
        name as segment_name,
        lanes,
        speed_limit_kmh,
        capacity_vph,
        length_km
    from source

)

select * from renamed
