with

source as (

    select * from {{ source('iot', 'river_gauges') }}

),

renamed as (

    select
        sensor_id,
        district_id,
        river as river_name,
        normal_level_m,
        attention_level_m,
        warning_level_m,
        alarm_level_m
    from source

)

select * from renamed
