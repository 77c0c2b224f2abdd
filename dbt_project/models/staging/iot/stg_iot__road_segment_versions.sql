with

snapshot as (

    select * from {{ ref('snp_iot__road_segments') }}

),

renamed as (

    select
        segment_id,
        district_id,
        name as segment_name,
        lanes,
        speed_limit_kmh,
        capacity_vph,
        length_km,
        {{ registry_validity('segment_id') }}
    from snapshot

)

select * from renamed
