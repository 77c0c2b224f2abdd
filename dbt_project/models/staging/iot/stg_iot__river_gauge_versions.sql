with

snapshot as (

    select * from {{ ref('snp_iot__river_gauges') }}

),

renamed as (

    select
        sensor_id,
        district_id,
        river as river_name,
        normal_level_m,
        attention_level_m,
        warning_level_m,
        alarm_level_m,
        {{ registry_validity('sensor_id') }}
    from snapshot

)

select * from renamed
