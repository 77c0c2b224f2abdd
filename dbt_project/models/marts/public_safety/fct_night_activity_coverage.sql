with

district_days as (

    select districts.*, dates.local_date
    from {{ ref('stg_iot__districts') }} as districts
    cross join {{ run_dates() }} as dates

),

cameras as (

    select district_id, count(*) as cameras
    from {{ ref('stg_cctv__cameras') }}
    group by 1

),

sensors as (

    select district_id, count(*) as iot_sensors
    from {{ ref('stg_iot__sensors') }}
    group by 1

),

night_pedestrians as (

    select district_id, local_date, avg(pedestrians_per_hour) as night_pedestrians_per_hour
    from {{ ref('fct_pedestrian_activity_hourly') }}
    where {{ in_run_window('local_date') }} and is_night
    group by 1, 2

),

night_traffic as (

    select district_id, local_date, sum(volume_vph) as night_vehicles
    from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_window('local_date') }} and {{ is_night('local_hour') }}
    group by 1, 2

),

night_noise as (

    select
        district_id,
        local_date,
        -- energy mean: decibels average as sound energy, not arithmetically
        round(10 * log10(avg(pow(10, laeq_db / 10))), 1) as night_noise_leq_db,
        avg(case when exceeds_limit then 1.0 else 0.0 end) as night_noise_exceedance_share
    from {{ ref('int_noise_readings_assessed') }}
    where {{ in_run_window('local_date') }} and period = 'night'
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
        night_pedestrians.night_pedestrians_per_hour,
        coalesce(night_traffic.night_vehicles, 0) as night_vehicles,
        night_noise.night_noise_leq_db,
        district_days.noise_limit_night_db,
        night_noise.night_noise_exceedance_share
    from district_days
    left join cameras on district_days.district_id = cameras.district_id
    left join sensors on district_days.district_id = sensors.district_id
    left join night_pedestrians
        on district_days.district_id = night_pedestrians.district_id
        and district_days.local_date = night_pedestrians.local_date
    left join night_traffic
        on district_days.district_id = night_traffic.district_id
        and district_days.local_date = night_traffic.local_date
    left join night_noise
        on district_days.district_id = night_noise.district_id
        and district_days.local_date = night_noise.local_date

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(population as bigint) as population,
        cast(area_km2 as double) as area_km2,
        cast(population / area_km2 as double) as population_density_per_km2,
        cast(cameras as integer) as cameras,
        cast(cameras_per_km2 as double) as cameras_per_km2,
        cast(iot_sensors as integer) as iot_sensors,
        cast(night_vehicles as double) as night_vehicles,
        cast(night_pedestrians_per_hour as double) as night_pedestrians_per_hour,
        cast(night_noise_leq_db as double) as night_noise_leq_db,
        cast(noise_limit_night_db as double) as noise_limit_night_db,
        cast(night_noise_exceedance_share as double) as night_noise_exceedance_share,
        -- no camera, or fewer per km2 than the city's median district
        cast(cameras = 0 or cameras_per_km2 < median(cameras_per_km2) over (partition by local_date)
            as boolean) as is_poorly_covered
    from joined

)

select * from final
