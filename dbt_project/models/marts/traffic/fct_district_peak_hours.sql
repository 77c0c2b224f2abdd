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
        sum(congestion_index * volume_vph) / nullif(sum(volume_vph), 0) as congestion_index,
        count(*) filter (where congestion_level in ('heavy', 'severe')) as congested_segments
    from segment_hours
    group by 1, 2, 3, 4

),

district_days as (

    select
        district_id,
        local_date,
        sum(volume_vph) as daily_vehicles,
        arg_max(hour_start, volume_vph) filter (where local_hour between 6 and 11) as am_peak_hour_start,
        max(volume_vph) filter (where local_hour between 6 and 11) as am_peak_volume_vph,
        arg_max(congestion_index, volume_vph) filter (where local_hour between 6 and 11)
            as am_peak_congestion_index,
        arg_max(hour_start, volume_vph) filter (where local_hour between 15 and 20) as pm_peak_hour_start,
        max(volume_vph) filter (where local_hour between 15 and 20) as pm_peak_volume_vph,
        arg_max(congestion_index, volume_vph) filter (where local_hour between 15 and 20)
            as pm_peak_congestion_index,
        max(congestion_index) as max_congestion_index,
        sum(congested_segments) as congested_segment_hours
    from district_hours
    group by 1, 2

),

segments as (

    select district_id, count(*) as road_segments
    from {{ ref('stg_iot__road_segments') }}
    group by 1

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
        cast(district_days.am_peak_hour_start as timestamp with time zone) as am_peak_hour_start,
        cast(district_days.am_peak_volume_vph as double) as am_peak_volume_vph,
        cast(district_days.am_peak_congestion_index as double) as am_peak_congestion_index,
        cast(district_days.pm_peak_hour_start as timestamp with time zone) as pm_peak_hour_start,
        cast(district_days.pm_peak_volume_vph as double) as pm_peak_volume_vph,
        cast(district_days.pm_peak_congestion_index as double) as pm_peak_congestion_index,
        cast(district_days.max_congestion_index as double) as max_congestion_index,
        cast(district_days.congested_segment_hours as integer) as congested_segment_hours
    from district_days
    inner join reporting
        on district_days.district_id = reporting.district_id
        and district_days.local_date = reporting.local_date
    left join segments on district_days.district_id = segments.district_id

)

select * from final
