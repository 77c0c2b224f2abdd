with

coverage as (

    select * from {{ ref('stg_cctv__coverage') }}

),

counts as (

    select * from {{ ref('stg_cctv__counts') }}

),

observed_hours as (

    -- the time base: every minute a clip covered, crossings or not, at the seconds it covered
    select
        camera_id,
        any_value(segment_id) as segment_id,
        any_value(district_id) as district_id,
        date_trunc('hour', minute_start) as hour_start,
        sum(observed_seconds) as observed_seconds
    from coverage
    group by camera_id, date_trunc('hour', minute_start)

),

crossing_hours as (

    select
        camera_id,
        date_trunc('hour', minute_start) as hour_start,
        sum(crossings) filter (where road_user = 'vehicle') as vehicle_crossings,
        sum(crossings) filter (where road_user = 'pedestrian') as pedestrian_crossings
    from counts
    group by camera_id, date_trunc('hour', minute_start)

),

final as (

    select
        observed_hours.camera_id,
        observed_hours.segment_id,
        observed_hours.district_id,
        {{ local_date('observed_hours.hour_start') }} as local_date,
        observed_hours.hour_start,
        {{ local_hour('observed_hours.hour_start') }} as local_hour,
        cast(observed_hours.observed_seconds as double) as observed_seconds,
        cast(observed_hours.observed_seconds / 60.0 as double) as observed_minutes,
        cast(coalesce(crossing_hours.vehicle_crossings, 0) as bigint) as vehicle_crossings,
        cast(coalesce(crossing_hours.pedestrian_crossings, 0) as bigint) as pedestrian_crossings,
        -- a clip covers part of an hour: scale the seconds seen (not the minutes with a crossing) to an hour
        cast(coalesce(crossing_hours.vehicle_crossings, 0) * 3600.0 / observed_hours.observed_seconds as double)
            as vehicle_volume_vph,
        cast(coalesce(crossing_hours.pedestrian_crossings, 0) * 3600.0 / observed_hours.observed_seconds as double)
            as pedestrian_volume_ph
    from observed_hours
    left join crossing_hours
        on observed_hours.camera_id = crossing_hours.camera_id
        and observed_hours.hour_start = crossing_hours.hour_start
    where observed_hours.observed_seconds > 0

)

select * from final
where {{ in_run_window('local_date') }}
