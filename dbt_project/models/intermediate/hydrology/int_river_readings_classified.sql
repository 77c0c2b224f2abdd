with

readings as (

    select * from {{ ref('stg_iot__river_level') }}

),

gauges as (

    select * from {{ ref('stg_iot__river_gauge_versions') }}

),

classified as (

    select
        readings.sensor_id,
        gauges.district_id,
        gauges.river_name,
        readings.local_date,
        readings.observed_at,
        readings.level_m,
        gauges.attention_level_m,
        gauges.warning_level_m,
        gauges.alarm_level_m,
        case
            when readings.level_m >= gauges.alarm_level_m then 3
            when readings.level_m >= gauges.warning_level_m then 2
            when readings.level_m >= gauges.attention_level_m then 1
            else 0
        end as stage_rank
    from readings
    inner join gauges
        on readings.sensor_id = gauges.sensor_id and {{ registry_as_of('gauges', 'readings.observed_at') }}

),

final as (

    select
        *,
        cast(['normal', 'attention', 'warning', 'alarm'][stage_rank + 1] as varchar) as flood_stage
    from classified

)

select * from final
where {{ in_run_window('local_date') }}
