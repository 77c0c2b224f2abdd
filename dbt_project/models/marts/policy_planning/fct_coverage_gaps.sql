with

district_days as (

    select districts.*, dates.local_date
    from {{ ref('stg_iot__districts') }} as districts
    cross join {{ run_dates() }} as dates

),

sensors as (

    select
        district_id,
        count(*) as iot_sensors,
        count(*) filter (where sensor_kind = 'air_quality') as air_quality_sensors,
        count(*) filter (where sensor_kind = 'noise') as noise_sensors,
        count(*) filter (where sensor_kind = 'traffic') as traffic_loops,
        count(*) filter (where sensor_kind = 'rain') as rain_gauges,
        count(*) filter (where sensor_kind = 'river_level') as river_gauges
    from {{ ref('stg_iot__sensors') }}
    group by 1

),

cameras as (

    select district_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

segments as (

    select
        district_id,
        count(*) as road_segments,
        count(*) filter (where is_monitored) as monitored_segments
    from {{ ref('dim_road_segments') }}
    group by 1

),

traffic as (

    select district_id, local_date, daily_vehicles, congested_segment_hours
    from {{ ref('fct_district_peak_hours') }}
    where {{ in_run_window('local_date') }}

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

    select district_id, local_date, sum(monitor_minutes_over_limit) / 60.0 as noise_monitor_hours_over_limit
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
        coalesce(traffic.daily_vehicles, 0) as daily_vehicles,
        coalesce(traffic.congested_segment_hours, 0) as congested_segment_hours,
        coalesce(floods.flood_alerts, 0) as flood_alerts,
        coalesce(air.unhealthy_hours, 0) as unhealthy_air_hours,
        coalesce(noise.noise_monitor_hours_over_limit, 0) as noise_monitor_hours_over_limit
    from district_days
    left join sensors on district_days.district_id = sensors.district_id
    left join cameras on district_days.district_id = cameras.district_id
    left join segments on district_days.district_id = segments.district_id
    left join uptime
        on district_days.district_id = uptime.district_id and district_days.local_date = uptime.local_date
    left join traffic
        on district_days.district_id = traffic.district_id and district_days.local_date = traffic.local_date
    left join floods
        on district_days.district_id = floods.district_id and district_days.local_date = floods.local_date
    left join air
        on district_days.district_id = air.district_id and district_days.local_date = air.local_date
    left join noise
        on district_days.district_id = noise.district_id and district_days.local_date = noise.local_date

),

scored as (

    select
        *,
        iot_sensors / area_km2 as sensors_per_km2,
        cameras * 100000.0 / population as cameras_per_100k_residents,
        monitored_segments / nullif(road_segments, 0) as monitored_segment_share,
        -- pressure: incidents and traffic, each ranked among the city's districts that day (0..1)
        (
            percent_rank() over (partition by local_date order by flood_alerts)
            + percent_rank() over (partition by local_date order by unhealthy_air_hours)
            + percent_rank() over (partition by local_date order by noise_monitor_hours_over_limit)
            + percent_rank() over (partition by local_date order by congested_segment_hours)
            + percent_rank() over (partition by local_date order by daily_vehicles)
        ) / 5 as pressure_score,
        -- coverage: sensor density, cameras per resident, share of roads measured (0..1)
        (
            percent_rank() over (partition by local_date order by iot_sensors / area_km2)
            + percent_rank() over (partition by local_date order by cameras * 100000.0 / population)
            + percent_rank() over (
                partition by local_date order by coalesce(monitored_segments / nullif(road_segments, 0), 0)
            )
        ) / 3 as coverage_score
    from joined

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(row_number() over (
            partition by local_date order by pressure_score - coverage_score desc, district_id
        ) as integer) as gap_rank,
        cast(round(pressure_score - coverage_score, 4) as double) as gap_score,
        cast(round(pressure_score, 4) as double) as pressure_score,
        cast(round(coverage_score, 4) as double) as coverage_score,
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
        cast(daily_vehicles as double) as daily_vehicles,
        cast(congested_segment_hours as integer) as congested_segment_hours,
        cast(flood_alerts as integer) as flood_alerts,
        cast(unhealthy_air_hours as integer) as unhealthy_air_hours,
        cast(noise_monitor_hours_over_limit as double) as noise_monitor_hours_over_limit,
        cast(cameras = 0 as boolean) as lacks_camera_coverage,
        cast(air_quality_sensors = 0 or noise_sensors = 0 or traffic_loops = 0 as boolean) as lacks_sensor_kind
    from scored

)

select * from final
