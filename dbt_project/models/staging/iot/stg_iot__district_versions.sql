with

snapshot as (

    select * from {{ ref('snp_iot__districts') }}

),

renamed as (

    select
        district_id,
        name as district_name,
        zone_type,
        population,
        area_km2,
        lat as latitude,
        lon as longitude,
        noise_limit_day_db,
        noise_limit_night_db,
        {{ registry_validity('district_id') }}
    from snapshot

)

select * from renamed
