{#- Equal weights within each score: a local policy choice (no standard weighs these), documented in the YAML. -#}
{%- set pressure_terms = [
    ['flood_alerts', 'flood_rank', 1],
    ['unhealthy_air_hours', 'air_rank', 1],
    ['noise_hours_over_limit', 'noise_rank', 1],
    ['congested_segment_hours', 'congestion_rank', 1],
    ['daily_vehicles', 'traffic_rank', 1],
] -%}
{%- set coverage_terms = [
    ['sensors_per_km2', 'sensor_density_rank', 1],
    ['cameras_per_100k_residents', 'camera_rank', 1],
    ['monitored_segment_share', 'monitored_share_rank', 1],
] -%}

with

-- the registry (districts, sensors, road segments) as it was on each day: a backfill of an old day
-- keeps that day's estate; cameras are a seed with no history

district_days as (

    select districts.*, dates.local_date
    from {{ run_dates() }} as dates
    inner join {{ ref('stg_iot__district_versions') }} as districts
        on {{ registry_as_of('districts', registry_day_start('dates.local_date')) }}

),

registered_sensors as (

    select sensors.*, dates.local_date
    from {{ run_dates() }} as dates
    inner join {{ ref('stg_iot__sensor_versions') }} as sensors
        on {{ registry_as_of('sensors', registry_day_start('dates.local_date')) }}

),

sensors as (

    select
        district_id,
        local_date,
        count(*) as iot_sensors,
        count(*) filter (where sensor_kind = 'air_quality') as air_quality_sensors,
        count(*) filter (where sensor_kind = 'noise') as noise_sensors,
        count(*) filter (where sensor_kind = 'traffic') as traffic_loops,
        count(*) filter (where sensor_kind = 'rain') as rain_gauges,
        count(*) filter (where sensor_kind = 'river_level') as river_gauges
    from registered_sensors
    group by 1, 2

),

cameras as (

    select district_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

monitored as (

    -- a segment is monitored by a loop registered that day or by a camera (as dim_road_segments)
    select distinct local_date, segment_id
    from registered_sensors
    where sensor_kind = 'traffic' and segment_id is not null
    union
    select dates.local_date, cameras.segment_id
    from {{ run_dates() }} as dates
    cross join {{ ref('stg_cctv__cameras') }} as cameras

),

segments as (

    select
        segments.district_id,
        dates.local_date,
        count(*) as road_segments,
        count(monitored.segment_id) as monitored_segments
    from {{ run_dates() }} as dates
    inner join {{ ref('stg_iot__road_segment_versions') }} as segments
        on {{ registry_as_of('segments', registry_day_start('dates.local_date')) }}
    left join monitored
        on segments.segment_id = monitored.segment_id and dates.local_date = monitored.local_date
    group by 1, 2

),

congestion as (

    select district_id, local_date, congested_segment_hours
    from {{ ref('fct_district_peak_hours') }}
    where {{ in_run_window('local_date') }}

),

segment_days as (

    -- a segment's mean hourly volume over the hours it was measured, through the 24-hour day
    select
        district_id,
        local_date,
        segment_id,
        avg(volume_vph) * 24 as daily_vehicles,
        -- congestion is measured only where a loop gives speeds; a camera-only segment has none
        count(*) filter (where loop_readings > 0) as loop_hours
    from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_window('local_date') }} and volume_vph is not null
    group by 1, 2, 3

),

traffic as (

    -- per measured segment, so a district with more loops is not busier for it
    select
        district_id,
        local_date,
        avg(daily_vehicles) as daily_vehicles_per_segment,
        sum(loop_hours) > 0 as has_loop_hours
    from segment_days
    group by 1, 2

),

floods as (

    select district_id, local_date, count(*) as flood_alerts
    from {{ ref('fct_flood_alerts') }}
    where {{ in_run_window('local_date') }} and alert_level in ('warning', 'alarm')
    group by 1, 2

),

air as (

    select district_id, local_date, unhealthy_hours
    from {{ ref('fct_air_quality_daily') }}
    where {{ in_run_window('local_date') }}

),

noise as (

    -- per monitor: each period's monitor-minutes over the limit shared among its monitors
    select
        district_id,
        local_date,
        sum(monitor_minutes_over_limit / nullif(noise_sensors, 0)) / 60.0 as noise_hours_over_limit_per_monitor
    from {{ ref('fct_noise_exceedances') }}
    where {{ in_run_window('local_date') }}
    group by 1, 2

),

uptime as (

    select district_id, local_date, avg(uptime_pct) as mean_sensor_uptime_pct
    from {{ ref('fct_asset_uptime') }}
    where {{ in_run_window('local_date') }} and asset_type = 'sensor'
    group by 1, 2

),

joined as (

    select
        district_days.district_id,
        district_days.local_date,
        district_days.population,
        district_days.area_km2,
        coalesce(sensors.iot_sensors, 0) as iot_sensors,
        coalesce(sensors.air_quality_sensors, 0) as air_quality_sensors,
        coalesce(sensors.noise_sensors, 0) as noise_sensors,
        coalesce(sensors.traffic_loops, 0) as traffic_loops,
        coalesce(sensors.rain_gauges, 0) as rain_gauges,
        coalesce(sensors.river_gauges, 0) as river_gauges,
        coalesce(cameras.cameras, 0) as cameras,
        coalesce(segments.road_segments, 0) as road_segments,
        coalesce(segments.monitored_segments, 0) as monitored_segments,
        uptime.mean_sensor_uptime_pct,
        -- a district without the instrument has no value, not 0: its term is left out of the score
        traffic.daily_vehicles_per_segment,
        case when traffic.has_loop_hours then coalesce(congestion.congested_segment_hours, 0) end
            as congested_segment_hours,
        case when coalesce(sensors.river_gauges, 0) > 0 then coalesce(floods.flood_alerts, 0) end as flood_alerts,
        case when coalesce(sensors.river_gauges, 0) > 0
            then coalesce(floods.flood_alerts, 0) / sensors.river_gauges end as flood_alerts_per_gauge,
        air.unhealthy_hours as unhealthy_air_hours,
        noise.noise_hours_over_limit_per_monitor
    from district_days
    left join sensors
        on district_days.district_id = sensors.district_id and district_days.local_date = sensors.local_date
    left join cameras on district_days.district_id = cameras.district_id
    left join segments
        on district_days.district_id = segments.district_id and district_days.local_date = segments.local_date
    left join uptime
        on district_days.district_id = uptime.district_id and district_days.local_date = uptime.local_date
    left join traffic
        on district_days.district_id = traffic.district_id and district_days.local_date = traffic.local_date
    left join congestion
        on district_days.district_id = congestion.district_id and district_days.local_date = congestion.local_date
    left join floods
        on district_days.district_id = floods.district_id and district_days.local_date = floods.local_date
    left join air
        on district_days.district_id = air.district_id and district_days.local_date = air.local_date
    left join noise
        on district_days.district_id = noise.district_id and district_days.local_date = noise.local_date

),

measures as (

    select
        *,
        iot_sensors / area_km2 as sensors_per_km2,
        cameras * 100000.0 / population as cameras_per_100k_residents,
        monitored_segments / nullif(road_segments, 0) as monitored_segment_share
    from joined

),

ranked as (

    -- each measure ranked among the districts where it is known that day (0 lowest, 1 highest)
    select
        *,
        {{ rank_among_known('flood_alerts_per_gauge') }} as flood_rank,
        {{ rank_among_known('unhealthy_air_hours') }} as air_rank,
        {{ rank_among_known('noise_hours_over_limit_per_monitor') }} as noise_rank,
        {{ rank_among_known('congested_segment_hours') }} as congestion_rank,
        {{ rank_among_known('daily_vehicles_per_segment') }} as traffic_rank,
        {{ rank_among_known('sensors_per_km2') }} as sensor_density_rank,
        {{ rank_among_known('cameras_per_100k_residents') }} as camera_rank,
        {{ rank_among_known('monitored_segment_share') }} as monitored_share_rank
    from measures

),

scored as (

    select
        *,
        {{ weighted_mean_of_known(pressure_terms) }} as pressure_score,
        {{ weighted_mean_of_known(coverage_terms) }} as coverage_score,
        {{ missing_terms(pressure_terms + coverage_terms) }} as missing_inputs
    from ranked

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(row_number() over (
            partition by local_date order by pressure_score - coverage_score desc nulls last, district_id
        ) as integer) as gap_rank,
        cast(round(pressure_score - coverage_score, 4) as double) as gap_score,
        cast(round(pressure_score, 4) as double) as pressure_score,
        cast(round(coverage_score, 4) as double) as coverage_score,
        cast(missing_inputs as varchar[]) as missing_inputs,
        cast(population as bigint) as population,
        cast(area_km2 as double) as area_km2,
        cast(iot_sensors as integer) as iot_sensors,
        cast(air_quality_sensors as integer) as air_quality_sensors,
        cast(noise_sensors as integer) as noise_sensors,
        cast(traffic_loops as integer) as traffic_loops,
        cast(rain_gauges as integer) as rain_gauges,
        cast(river_gauges as integer) as river_gauges,
        cast(cameras as integer) as cameras,
        cast(sensors_per_km2 as double) as sensors_per_km2,
        cast(cameras_per_100k_residents as double) as cameras_per_100k_residents,
        cast(road_segments as integer) as road_segments,
        cast(monitored_segments as integer) as monitored_segments,
        cast(monitored_segment_share as double) as monitored_segment_share,
        cast(mean_sensor_uptime_pct as double) as mean_sensor_uptime_pct,
        cast(daily_vehicles_per_segment as double) as daily_vehicles_per_segment,
        cast(congested_segment_hours as integer) as congested_segment_hours,
        cast(flood_alerts as integer) as flood_alerts,
        cast(flood_alerts_per_gauge as double) as flood_alerts_per_gauge,
        cast(unhealthy_air_hours as integer) as unhealthy_air_hours,
        cast(noise_hours_over_limit_per_monitor as double) as noise_hours_over_limit_per_monitor,
        cast(cameras = 0 as boolean) as lacks_camera_coverage,
        cast(air_quality_sensors = 0 or noise_sensors = 0 or traffic_loops = 0 as boolean) as lacks_sensor_kind
    from scored

)

select * from final
