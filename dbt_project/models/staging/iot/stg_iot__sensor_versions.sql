with

snapshot as (

    select * from {{ ref('snp_iot__sensors') }}

),

renamed as (

    select
        sensor_id,
        kind as sensor_kind,
        district_id,
        segment_id,
        lat as latitude,
        lon as longitude,
        installed_date,
        {{ registry_validity('sensor_id') }}
    from snapshot

)

select * from renamed
