{%- set min_congested_minutes = 30 -%}
{%- set near_capacity = 0.85 -%}

with

segment_hours as (

    select * from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_window('local_date') }} and worst_los is not null

),

segment_days as (

    select
        segment_id,
        local_date,
        any_value(district_id) as district_id,
        count(*) as hours_measured,
        sum(volume_vph) as daily_vehicles,
        sum(congested_minutes) as congested_minutes,
        sum(congested_minutes) filter (
            where local_hour between 7 and 9 or local_hour between 17 and 19
        ) as peak_congested_minutes,
        -- the worst hour: most congested minutes (LOS E/F), then the highest travel time index
        arg_max(hour_start, struct_pack(m := congested_minutes, t := coalesce(travel_time_index, 1)))
            as worst_hour_start,
        arg_max(congested_minutes, struct_pack(m := congested_minutes, t := coalesce(travel_time_index, 1)))
            as worst_hour_congested_minutes,
        arg_max(min_speed_kmh, struct_pack(m := congested_minutes, t := coalesce(travel_time_index, 1)))
            as worst_hour_min_speed_kmh,
        arg_max(volume_capacity_ratio, struct_pack(m := congested_minutes, t := coalesce(travel_time_index, 1)))
            as worst_hour_volume_capacity_ratio,
        arg_max(mean_occupancy_pct, struct_pack(m := congested_minutes, t := coalesce(travel_time_index, 1)))
            as worst_hour_occupancy_pct,
        max(travel_time_index) as max_travel_time_index,
        max(worst_los) as worst_los
    from segment_hours
    group by 1, 2

),

scored as (

    select
        *,
        -- congestion while volume stays below capacity points at the signal plan, not at demand
        congested_minutes >= {{ min_congested_minutes }}
            and worst_hour_volume_capacity_ratio < {{ near_capacity }} as is_candidate,
        case
            when congested_minutes < {{ min_congested_minutes }} then 'not congested'
            when worst_hour_volume_capacity_ratio < {{ near_capacity }} then 'congested below capacity'
            else 'congested at capacity'
        end as finding,
        congested_minutes / 60.0 * (1 - least(worst_hour_volume_capacity_ratio, 1)) as retiming_score
    from segment_days

),

final as (

    select
        cast(segment_id as varchar) as segment_id,
        cast(local_date as date) as local_date,
        cast(district_id as varchar) as district_id,
        cast(row_number() over (
            partition by local_date order by retiming_score desc, congested_minutes desc, segment_id
        ) as integer) as retiming_rank,
        cast(round(retiming_score, 4) as double) as retiming_score,
        cast(is_candidate as boolean) as is_candidate,
        cast(finding as varchar) as finding,
        cast(hours_measured as integer) as hours_measured,
        cast(congested_minutes as integer) as congested_minutes,
        cast(coalesce(peak_congested_minutes, 0) as integer) as peak_congested_minutes,
        cast(max_travel_time_index as double) as max_travel_time_index,
        cast(worst_los as varchar) as worst_los,
        cast(worst_hour_start as timestamp with time zone) as worst_hour_start,
        cast(worst_hour_congested_minutes as integer) as worst_hour_congested_minutes,
        cast(worst_hour_min_speed_kmh as double) as worst_hour_min_speed_kmh,
        cast(worst_hour_volume_capacity_ratio as double) as worst_hour_volume_capacity_ratio,
        cast(worst_hour_occupancy_pct as double) as worst_hour_occupancy_pct,
        cast(daily_vehicles as double) as daily_vehicles
    from scored

)

select * from final
