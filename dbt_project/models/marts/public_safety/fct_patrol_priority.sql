{%- set names = ['night_traffic', 'night_pedestrians', 'night_noise', 'camera_gap', 'population_density'] -%}
{%- set weights = score_weights('patrol_priority_weights', names) -%}
{%- set ranks = {
    'night_traffic': 'traffic_rank',
    'night_pedestrians': 'pedestrian_rank',
    'night_noise': 'noise_rank',
    'camera_gap': 'camera_gap_rank',
    'population_density': 'density_rank',
} -%}
{%- set terms = [] -%}
{%- for name, weight in weights -%}
    {%- do terms.append([name, ranks[name], weight]) -%}
{%- endfor -%}
{%- set total_weight = weights | sum(attribute=1) -%}

with

coverage as (

    select * from {{ ref('fct_night_activity_coverage') }}
    where {{ in_run_window('local_date') }}

),

ranked as (

    -- each input ranked among the districts where it is known that night (0 lowest, 1 highest)
    select
        *,
        {{ rank_among_known('night_vehicles_per_segment') }} as traffic_rank,
        {{ rank_among_known('night_pedestrians_per_camera_hour') }} as pedestrian_rank,
        {{ rank_among_known('night_noise_exceedance_share') }} as noise_rank,
        1 - {{ rank_among_known('cameras_per_km2') }} as camera_gap_rank,
        {{ rank_among_known('population_density_per_km2') }} as density_rank
    from coverage

),

scored as (

    select
        *,
        {{ known_weight(terms) }} / {{ total_weight }} as known_weight_share,
        {{ missing_terms(terms) }} as missing_inputs,
        case when {{ known_weight(terms) }} / {{ total_weight }} >= {{ var('patrol_priority_min_known_weight') }}
            then round(100 * {{ weighted_mean_of_known(terms) }}, 1)
        end as priority_score
    from ranked

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(row_number() over (
            partition by local_date order by priority_score desc nulls last, district_id
        ) as integer) as priority_rank,
        cast(priority_score as double) as priority_score,
        cast(round(known_weight_share, 4) as double) as known_weight_share,
        cast(missing_inputs as varchar[]) as missing_inputs,
        cast(traffic_rank as double) as traffic_rank,
        cast(pedestrian_rank as double) as pedestrian_rank,
        cast(noise_rank as double) as noise_rank,
        cast(camera_gap_rank as double) as camera_gap_rank,
        cast(density_rank as double) as density_rank,
        cast(night_vehicles_per_segment as double) as night_vehicles_per_segment,
        cast(night_measured_segments as integer) as night_measured_segments,
        cast(night_pedestrians_per_camera_hour as double) as night_pedestrians_per_camera_hour,
        cast(night_noise_exceedance_share as double) as night_noise_exceedance_share,
        cast(night_noise_monitors as integer) as night_noise_monitors,
        cast(cameras as integer) as cameras,
        cast(cameras_per_km2 as double) as cameras_per_km2,
        cast(population_density_per_km2 as double) as population_density_per_km2,
        cast(is_poorly_covered as boolean) as is_poorly_covered
    from scored

)

select * from final
