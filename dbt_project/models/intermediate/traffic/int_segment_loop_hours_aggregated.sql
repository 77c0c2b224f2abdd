with

readings as (

    select * from {{ ref('stg_iot__traffic') }}

),

loops as (

    select sensor_id, segment_id, valid_from, valid_to
    from {{ ref('stg_iot__sensor_versions') }}
    where sensor_kind = 'traffic'

),

segments as (

    select segment_id, speed_limit_kmh, valid_from, valid_to
    from {{ ref('stg_iot__road_segment_versions') }}

),

segment_hours as (

    select
        loops.segment_id,
        date_trunc('hour', readings.observed_at) as hour_start,
        count(distinct readings.sensor_id) as loop_sensors,
        count(*) as loop_readings,
        -- mean 5-minute count x 12: a missing reading does not read as an empty road
        avg(readings.vehicle_count) * 12 as loop_volume_vph,
        sum(readings.vehicle_count * readings.mean_speed_kmh)
            / nullif(sum(case when readings.mean_speed_kmh is not null then readings.vehicle_count end), 0)
            as mean_speed_kmh,
        min(readings.mean_speed_kmh) as min_speed_kmh,
        -- a jam rarely fills a whole hour: count the 5-minute readings below half the speed limit
        count(*) filter (where readings.mean_speed_kmh < 0.5 * segments.speed_limit_kmh) as congested_readings,
        avg(readings.occupancy_pct) as mean_occupancy_pct
    from readings
    inner join loops
        on readings.sensor_id = loops.sensor_id and {{ registry_as_of('loops', 'readings.observed_at') }}
    inner join segments
        on loops.segment_id = segments.segment_id and {{ registry_as_of('segments', 'readings.observed_at') }}
    group by 1, 2

),

final as (

    select
        segment_id,
        {{ local_date('hour_start') }} as local_date,
        hour_start,
        {{ local_hour('hour_start') }} as local_hour,
        cast(loop_sensors as integer) as loop_sensors,
        cast(loop_readings as integer) as loop_readings,
        cast(loop_volume_vph as double) as loop_volume_vph,
        cast(mean_speed_kmh as double) as mean_speed_kmh,
        cast(min_speed_kmh as double) as min_speed_kmh,
        cast(round(5.0 * congested_readings / loop_sensors) as integer) as congested_minutes,
        cast(mean_occupancy_pct as double) as mean_occupancy_pct
    from segment_hours

)

select * from final
where {{ in_run_window('local_date') }}
