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

located as (

    -- each reading placed by the registry as it was when it was observed
    select readings.*, loops.segment_id, segments.speed_limit_kmh
    from readings
    inner join loops
        on readings.sensor_id = loops.sensor_id and {{ registry_as_of('loops', 'readings.observed_at') }}
    inner join segments
        on loops.segment_id = segments.segment_id and {{ registry_as_of('segments', 'readings.observed_at') }}

),

intervals as (

    -- one 5-minute interval of a segment: its loops' vehicle-weighted mean speed
    select
        segment_id,
        observed_at as interval_start,
        any_value(speed_limit_kmh) as base_free_flow_kmh,
        sum(vehicle_count) as vehicles,
        sum(vehicle_count * mean_speed_kmh) filter (where mean_speed_kmh > 0)
            / nullif(sum(vehicle_count) filter (where mean_speed_kmh > 0), 0) as speed_kmh
    from located
    group by 1, 2

),

classified as (

    select
        *,
        speed_kmh / base_free_flow_kmh as speed_ratio,
        -- an interval no vehicle passed delays no one: free flow
        coalesce({{ hcm_urban_street_los('speed_kmh / base_free_flow_kmh') }}, 'A') as los
    from intervals

),

interval_hours as (

    select
        segment_id,
        date_trunc('hour', interval_start) as hour_start,
        count(*) as loop_intervals,
        max(los) as worst_los,
        5 * count(*) filter (where los = 'A') as minutes_los_a,
        5 * count(*) filter (where los = 'B') as minutes_los_b,
        5 * count(*) filter (where los = 'C') as minutes_los_c,
        5 * count(*) filter (where los = 'D') as minutes_los_d,
        5 * count(*) filter (where los = 'E') as minutes_los_e,
        5 * count(*) filter (where los = 'F') as minutes_los_f,
        5 * count(*) filter (where {{ is_congested_los('los') }}) as congested_minutes,
        -- travel time over free-flow travel time, per vehicle: the mean of free-flow speed / speed
        sum(vehicles / speed_ratio) filter (where speed_ratio > 0)
            / nullif(sum(vehicles) filter (where speed_ratio > 0), 0) as travel_time_index
    from classified
    group by 1, 2

),

reading_hours as (

    select
        segment_id,
        date_trunc('hour', observed_at) as hour_start,
        count(distinct sensor_id) as loop_sensors,
        count(*) as loop_readings,
        -- mean 5-minute count x 12: a missing reading does not read as an empty road
        avg(vehicle_count) * 12 as loop_volume_vph,
        sum(vehicle_count * mean_speed_kmh)
            / nullif(sum(case when mean_speed_kmh is not null then vehicle_count end), 0)
            as mean_speed_kmh,
        min(mean_speed_kmh) as min_speed_kmh,
        avg(occupancy_pct) as mean_occupancy_pct
    from located
    group by 1, 2

),

final as (

    select
        reading_hours.segment_id,
        {{ local_date('reading_hours.hour_start') }} as local_date,
        reading_hours.hour_start,
        {{ local_hour('reading_hours.hour_start') }} as local_hour,
        cast(reading_hours.loop_sensors as integer) as loop_sensors,
        cast(reading_hours.loop_readings as integer) as loop_readings,
        cast(interval_hours.loop_intervals as integer) as loop_intervals,
        cast(reading_hours.loop_volume_vph as double) as loop_volume_vph,
        cast(reading_hours.mean_speed_kmh as double) as mean_speed_kmh,
        cast(reading_hours.min_speed_kmh as double) as min_speed_kmh,
        cast(reading_hours.mean_occupancy_pct as double) as mean_occupancy_pct,
        cast(interval_hours.worst_los as varchar) as worst_los,
        cast(interval_hours.minutes_los_a as integer) as minutes_los_a,
        cast(interval_hours.minutes_los_b as integer) as minutes_los_b,
        cast(interval_hours.minutes_los_c as integer) as minutes_los_c,
        cast(interval_hours.minutes_los_d as integer) as minutes_los_d,
        cast(interval_hours.minutes_los_e as integer) as minutes_los_e,
        cast(interval_hours.minutes_los_f as integer) as minutes_los_f,
        cast(interval_hours.congested_minutes as integer) as congested_minutes,
        cast(interval_hours.travel_time_index as double) as travel_time_index
    from reading_hours
    inner join interval_hours
        on reading_hours.segment_id = interval_hours.segment_id
        and reading_hours.hour_start = interval_hours.hour_start

)

select * from final
where {{ in_run_window('local_date') }}
