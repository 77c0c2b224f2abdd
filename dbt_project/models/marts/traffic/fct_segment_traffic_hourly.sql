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
        sum(vehicle_volume_vph) as cctv_volume_vph
    from {{ ref('int_camera_hours_aggregated') }}
    where {{ in_run_window('local_date') }}
    group by 1, 2

),

segments as (

    select * from {{ ref('stg_iot__road_segments') }}

),

combined as (

    select
        coalesce(loops.segment_id, cameras.segment_id) as segment_id,
        coalesce(loops.local_date, cameras.local_date) as local_date,
        coalesce(loops.hour_start, cameras.hour_start) as hour_start,
        loops.loop_readings,
        loops.loop_volume_vph,
        cameras.cameras_reporting,
        cameras.cctv_volume_vph,
        loops.mean_speed_kmh,
        loops.min_speed_kmh,
        loops.congested_minutes,
        loops.mean_occupancy_pct
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
        -- loops count every lane in both directions; a camera fills in where there is no loop
        coalesce(combined.loop_volume_vph, combined.cctv_volume_vph) as volume_vph,
        case
            when combined.loop_volume_vph is not null and combined.cctv_volume_vph is not null then 'loop+cctv'
            when combined.loop_volume_vph is not null then 'loop'
            else 'cctv'
        end as volume_source,
        -- 0 at the speed limit, 1 at a standstill; an hour with no vehicle is free-flowing
        case
            when combined.loop_volume_vph is null then null
            when combined.mean_speed_kmh is null then 0.0
            else greatest(0.0, least(1.0, 1 - combined.mean_speed_kmh / segments.speed_limit_kmh))
        end as congestion_index
    from combined
    inner join segments on combined.segment_id = segments.segment_id

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
        cast(loop_volume_vph as double) as loop_volume_vph,
        cast(loop_readings as integer) as loop_readings,
        cast(cctv_volume_vph as double) as cctv_volume_vph,
        cast(cameras_reporting as integer) as cameras_reporting,
        cast(mean_speed_kmh as double) as mean_speed_kmh,
        cast(min_speed_kmh as double) as min_speed_kmh,
        cast(congested_minutes as integer) as congested_minutes,
        cast(mean_occupancy_pct as double) as mean_occupancy_pct,
        cast(volume_vph / capacity_vph as double) as volume_capacity_ratio,
        cast(mean_speed_kmh / speed_limit_kmh as double) as speed_ratio,
        cast(congestion_index as double) as congestion_index,
        cast(case
            when congestion_index is null then null
            when congestion_index < 0.3 then 'free_flow'
            when congestion_index < 0.5 then 'moderate'
            when congestion_index < 0.7 then 'heavy'
            else 'severe'
        end as varchar) as congestion_level
    from measured

)

select * from final
