{#- One HCM analysis period (15 minutes) at LOS E or F makes a congested segment-hour. -#}
{%- set congested_segment_hour_minutes = 15 -%}

with

segment_hours as (

    select * from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_window('local_date') }}

),

district_hours as (

    select
        district_id,
        local_date,
        hour_start,
        local_hour,
        sum(volume_vph) as volume_vph,
        -- weighted by the volume of the segments that have an index: camera-only ones have none
        sum(travel_time_index * volume_vph) filter (where travel_time_index is not null)
            / nullif(sum(volume_vph) filter (where travel_time_index is not null), 0) as travel_time_index,
        max(worst_los) as worst_los,
        sum(congested_minutes) as congested_minutes,
        count(*) filter (where congested_minutes >= {{ congested_segment_hour_minutes }}) as congested_segments,
        sum(volume_vph) filter (where is_camera_estimate) as camera_estimated_vph
    from segment_hours
    group by 1, 2, 3, 4

),

district_days as (

    select
        district_id,
        local_date,
        sum(volume_vph) as daily_vehicles,
        coalesce(sum(camera_estimated_vph), 0) as camera_estimated_vehicles,
        arg_max(hour_start, volume_vph) filter (where local_hour between 6 and 11) as am_peak_hour_start,
        max(volume_vph) filter (where local_hour between 6 and 11) as am_peak_volume_vph,
        arg_max(travel_time_index, volume_vph) filter (where local_hour between 6 and 11)
            as am_peak_travel_time_index,
        arg_max(hour_start, volume_vph) filter (where local_hour between 15 and 20) as pm_peak_hour_start,
        max(volume_vph) filter (where local_hour between 15 and 20) as pm_peak_volume_vph,
        arg_max(travel_time_index, volume_vph) filter (where local_hour between 15 and 20)
            as pm_peak_travel_time_index,
        max(travel_time_index) as max_travel_time_index,
        max(worst_los) as worst_los,
        coalesce(sum(congested_minutes), 0) as congested_minutes,
        sum(congested_segments) as congested_segment_hours
    from district_hours
    group by 1, 2

),

segments as (

    -- the district's segments as registered on each day
    select segments.district_id, dates.local_date, count(*) as road_segments
    from {{ ref('stg_iot__road_segment_versions') }} as segments
    inner join {{ run_dates() }} as dates
        on {{ registry_as_of('segments', registry_day_start('dates.local_date')) }}
    group by 1, 2

),

reporting as (

    select district_id, local_date, count(distinct segment_id) as segments_reporting
    from segment_hours
    group by 1, 2

),

final as (

    select
        cast(district_days.district_id as varchar) as district_id,
        cast(district_days.local_date as date) as local_date,
        cast(segments.road_segments as integer) as road_segments,
        cast(reporting.segments_reporting as integer) as segments_reporting,
        cast(district_days.daily_vehicles as double) as daily_vehicles,
        cast(district_days.camera_estimated_vehicles as double) as camera_estimated_vehicles,
        cast(district_days.am_peak_hour_start as timestamp with time zone) as am_peak_hour_start,
        cast(district_days.am_peak_volume_vph as double) as am_peak_volume_vph,
        cast(district_days.am_peak_travel_time_index as double) as am_peak_travel_time_index,
        cast(district_days.pm_peak_hour_start as timestamp with time zone) as pm_peak_hour_start,
        cast(district_days.pm_peak_volume_vph as double) as pm_peak_volume_vph,
        cast(district_days.pm_peak_travel_time_index as double) as pm_peak_travel_time_index,
        cast(district_days.max_travel_time_index as double) as max_travel_time_index,
        cast(district_days.worst_los as varchar) as worst_los,
        cast(district_days.congested_minutes as integer) as congested_minutes,
        cast(district_days.congested_segment_hours as integer) as congested_segment_hours
    from district_days
    inner join reporting
        on district_days.district_id = reporting.district_id
        and district_days.local_date = reporting.local_date
    left join segments
        on district_days.district_id = segments.district_id and district_days.local_date = segments.local_date

)

select * from final
