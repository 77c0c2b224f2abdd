with

loops as (

    select * from {{ ref('int_segment_loop_hours_aggregated') }}
    where {{ in_run_window('local_date') }}

),

cameras as (

    select
        segment_id,
        hour_start,
        any_value(local_date) as local_date,
        count(*) as cameras_reporting,
        sum(observed_seconds) as cctv_observed_seconds,
        sum(vehicle_volume_vph) as cctv_volume_vph
    from {{ ref('int_camera_hours_aggregated') }}
    where {{ in_run_window('local_date') }}
    group by 1, 2

),

segments as (

    -- the registry as it was in each hour (a backfill of an old day keeps that day's limits)
    select * from {{ ref('stg_iot__road_segment_versions') }}

),

combined as (

    select
        coalesce(loops.segment_id, cameras.segment_id) as segment_id,
        coalesce(loops.local_date, cameras.local_date) as local_date,
        coalesce(loops.hour_start, cameras.hour_start) as hour_start,
        loops.loop_readings,
        loops.loop_volume_vph,
        cameras.cameras_reporting,
        cameras.cctv_observed_seconds,
        cameras.cctv_volume_vph,
        loops.mean_speed_kmh,
        loops.min_speed_kmh,
        loops.mean_occupancy_pct,
        loops.worst_los,
        loops.minutes_los_a,
        loops.minutes_los_b,
        loops.minutes_los_c,
        loops.minutes_los_d,
        loops.minutes_los_e,
        loops.minutes_los_f,
        loops.congested_minutes,
        loops.travel_time_index
    from loops
    full outer join cameras
        on loops.segment_id = cameras.segment_id
        and loops.hour_start = cameras.hour_start

),

measured as (

    select
        combined.*,
        segments.district_id,
        segments.speed_limit_kmh,
        segments.capacity_vph,
        -- loops count every lane in both directions; a camera's estimate fills in where there is no loop
        coalesce(combined.loop_volume_vph, combined.cctv_volume_vph) as volume_vph,
        case
            when combined.loop_volume_vph is not null and combined.cctv_volume_vph is not null then 'loop+cctv'
            when combined.loop_volume_vph is not null then 'loop'
            else 'cctv'
        end as volume_source
    from combined
    inner join segments
        on combined.segment_id = segments.segment_id and {{ registry_as_of('segments', 'combined.hour_start') }}

),

final as (

    select
        cast(segment_id as varchar) as segment_id,
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(hour_start as timestamp with time zone) as hour_start,
        cast({{ local_hour('hour_start') }} as integer) as local_hour,
        cast(volume_vph as double) as volume_vph,
        cast(volume_source as varchar) as volume_source,
        cast(volume_source = 'cctv' as boolean) as is_camera_estimate,
        cast(loop_volume_vph as double) as loop_volume_vph,
        cast(loop_readings as integer) as loop_readings,
        cast(cctv_volume_vph as double) as cctv_volume_vph,
        cast(cctv_observed_seconds as double) as cctv_observed_seconds,
        cast(cameras_reporting as integer) as cameras_reporting,
        cast(mean_speed_kmh as double) as mean_speed_kmh,
        cast(min_speed_kmh as double) as min_speed_kmh,
        cast(mean_occupancy_pct as double) as mean_occupancy_pct,
        cast(volume_vph / capacity_vph as double) as volume_capacity_ratio,
        cast(mean_speed_kmh / speed_limit_kmh as double) as speed_ratio,
        cast(worst_los as varchar) as worst_los,
        cast(minutes_los_a as integer) as minutes_los_a,
        cast(minutes_los_b as integer) as minutes_los_b,
        cast(minutes_los_c as integer) as minutes_los_c,
        cast(minutes_los_d as integer) as minutes_los_d,
        cast(minutes_los_e as integer) as minutes_los_e,
        cast(minutes_los_f as integer) as minutes_los_f,
        cast(congested_minutes as integer) as congested_minutes,
        cast(travel_time_index as double) as travel_time_index
    from measured

)

select * from final
