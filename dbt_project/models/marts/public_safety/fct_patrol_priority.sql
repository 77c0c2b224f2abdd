with

coverage as (

    select * from {{ ref('fct_night_activity_coverage') }}
    where {{ in_run_window('local_date') }}

),

components as (

    select
        *,
        -- vehicles through the night plus pedestrians over its 8 hours
        night_vehicles + coalesce(night_pedestrians_per_hour, 0) * 8 as night_activity
    from coverage

),

scored as (

    select
        *,
        -- each component ranked among the city's districts that night (0 lowest, 1 highest)
        percent_rank() over (partition by local_date order by night_activity) as activity_rank,
        percent_rank() over (partition by local_date order by coalesce(night_noise_exceedance_share, 0))
            as noise_rank,
        percent_rank() over (partition by local_date order by cameras_per_km2) as camera_rank,
        percent_rank() over (partition by local_date order by population_density_per_km2) as density_rank
    from components

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(row_number() over (
            partition by local_date order by priority_score desc, district_id
        ) as integer) as priority_rank,
        cast(priority_score as double) as priority_score,
        cast(night_activity as double) as night_activity,
        cast(night_vehicles as double) as night_vehicles,
        cast(night_pedestrians_per_hour as double) as night_pedestrians_per_hour,
        cast(night_noise_exceedance_share as double) as night_noise_exceedance_share,
        cast(cameras as integer) as cameras,
        cast(cameras_per_km2 as double) as cameras_per_km2,
        cast(population_density_per_km2 as double) as population_density_per_km2,
        cast(is_poorly_covered as boolean) as is_poorly_covered
    from (
        select
            *,
            round(100 * (
                0.35 * activity_rank + 0.25 * noise_rank + 0.25 * (1 - camera_rank) + 0.15 * density_rank
            ), 1) as priority_score
        from scored
    )

)

select * from final
