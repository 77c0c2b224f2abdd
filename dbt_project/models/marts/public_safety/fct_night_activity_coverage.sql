with

-- the registry as it was on the night's date (its midnight falls inside the night): a backfill of an
-- old night keeps that night's districts, limits and sensors

district_days as (

    select districts.*, dates.local_date
    from {{ run_dates() }} as dates
    inner join {{ ref('stg_iot__district_versions') }} as districts
        on {{ registry_as_of('districts', registry_day_start('dates.local_date')) }}

),

cameras as (

    select district_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

sensors as (

    select sensors.district_id, dates.local_date, count(*) as iot_sensors
    from {{ run_dates() }} as dates
    inner join {{ ref('stg_iot__sensor_versions') }} as sensors
        on {{ registry_as_of('sensors', registry_day_start('dates.local_date')) }}
    group by 1, 2

),

-- every input below keeps the hours of the run's nights: 22:00 on D-1 to 05:59 on D is the night of D

night_pedestrians as (

    select
        district_id,
        {{ night_date('local_date', 'local_hour') }} as local_date,
        sum(observed_minutes) / 60.0 as night_camera_hours,
        -- per camera-hour of footage, so a district with more cameras is not busier for it
        sum(pedestrian_crossings) * 60.0 / nullif(sum(observed_minutes), 0) as night_pedestrians_per_camera_hour
    from {{ ref('fct_pedestrian_activity_hourly') }}
    where {{ in_run_nights('local_date', 'local_hour') }}
    group by 1, 2

),

night_segments as (

    select
        district_id,
        segment_id,
        {{ night_date('local_date', 'local_hour') }} as local_date,
        -- the segment's mean hourly volume over the hours it was measured, through the 8-hour night
        avg(volume_vph) * 8 as night_vehicles
    from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_nights('local_date', 'local_hour') }} and volume_vph is not null
    group by 1, 2, 3

),

night_hours as (

    select
        district_id,
        {{ night_date('local_date', 'local_hour') }} as local_date,
        count(distinct hour_start) as night_traffic_hours
    from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_nights('local_date', 'local_hour') }} and volume_vph is not null
    group by 1, 2

),

night_traffic as (

    select
        district_id,
        local_date,
        count(*) as night_measured_segments,
        -- per measured segment, so a district with more loops is not busier for it
        avg(night_vehicles) as night_vehicles_per_segment
    from night_segments
    group by 1, 2

),

noise_readings as (

    select
        district_id,
        sensor_id,
        {{ night_date('local_date', 'local_hour') }} as local_date,
        laeq_db,
        exceeds_limit
    from {{ ref('int_noise_readings_assessed') }}
    where {{ in_run_nights('local_date', 'local_hour') }}

),

noise_monitors as (

    select district_id, local_date, sensor_id, avg(case when exceeds_limit then 1.0 else 0.0 end) as share
    from noise_readings
    group by 1, 2, 3

),

night_noise_monitors as (

    -- per monitor, then the monitors' mean: each monitor counts once, however many readings it sent
    select district_id, local_date, count(*) as night_noise_monitors, avg(share) as night_noise_exceedance_share
    from noise_monitors
    group by 1, 2

),

night_noise_level as (

    select
        district_id,
        local_date,
        -- energy mean: decibels average as sound energy, not arithmetically
        round(10 * log10(avg(pow(10, laeq_db / 10))), 1) as night_noise_leq_db
    from noise_readings
    group by 1, 2

),

joined as (

    select
        district_days.district_id,
        district_days.local_date,
        district_days.population,
        district_days.area_km2,
        coalesce(cameras.cameras, 0) as cameras,
        coalesce(cameras.cameras, 0) / district_days.area_km2 as cameras_per_km2,
        coalesce(sensors.iot_sensors, 0) as iot_sensors,
        coalesce(night_traffic.night_measured_segments, 0) as night_measured_segments,
        coalesce(night_hours.night_traffic_hours, 0) as night_traffic_hours,
        night_traffic.night_vehicles_per_segment,
        coalesce(night_pedestrians.night_camera_hours, 0) as night_camera_hours,
        night_pedestrians.night_pedestrians_per_camera_hour,
        coalesce(night_noise_monitors.night_noise_monitors, 0) as night_noise_monitors,
        night_noise_level.night_noise_leq_db,
        district_days.noise_limit_night_db,
        night_noise_monitors.night_noise_exceedance_share
    from district_days
    left join cameras on district_days.district_id = cameras.district_id
    left join sensors
        on district_days.district_id = sensors.district_id and district_days.local_date = sensors.local_date
    left join night_pedestrians
        on district_days.district_id = night_pedestrians.district_id
        and district_days.local_date = night_pedestrians.local_date
    left join night_traffic
        on district_days.district_id = night_traffic.district_id
        and district_days.local_date = night_traffic.local_date
    left join night_hours
        on district_days.district_id = night_hours.district_id
        and district_days.local_date = night_hours.local_date
    left join night_noise_monitors
        on district_days.district_id = night_noise_monitors.district_id
        and district_days.local_date = night_noise_monitors.local_date
    left join night_noise_level
        on district_days.district_id = night_noise_level.district_id
        and district_days.local_date = night_noise_level.local_date

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast({{ night_start('local_date') }} as timestamp with time zone) as night_start,
        cast({{ night_end('local_date') }} as timestamp with time zone) as night_end,
        cast(population as bigint) as population,
        cast(area_km2 as double) as area_km2,
        cast(population / area_km2 as double) as population_density_per_km2,
        cast(cameras as integer) as cameras,
        cast(cameras_per_km2 as double) as cameras_per_km2,
        cast(iot_sensors as integer) as iot_sensors,
        cast(night_measured_segments as integer) as night_measured_segments,
        cast(night_traffic_hours as integer) as night_traffic_hours,
        cast(night_vehicles_per_segment as double) as night_vehicles_per_segment,
        cast(night_camera_hours as double) as night_camera_hours,
        cast(night_pedestrians_per_camera_hour as double) as night_pedestrians_per_camera_hour,
        cast(night_noise_monitors as integer) as night_noise_monitors,
        cast(night_noise_leq_db as double) as night_noise_leq_db,
        cast(noise_limit_night_db as double) as noise_limit_night_db,
        cast(night_noise_exceedance_share as double) as night_noise_exceedance_share,
        -- no camera, or fewer per km2 than the city's median district
        cast(cameras = 0 or cameras_per_km2 < median(cameras_per_km2) over (partition by local_date)
            as boolean) as is_poorly_covered
    from joined

)

select * from final
