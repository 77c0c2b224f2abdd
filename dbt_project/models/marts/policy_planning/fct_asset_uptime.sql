with

dates as (

    select * from {{ run_dates() }}

),

sensors as (

    -- the registry as it was on each day: a backfill of an old day keeps that day's sensors and districts
    select * from {{ ref('stg_iot__sensor_versions') }}

),

observed as (

    select * from {{ ref('int_sensor_days_observed') }}
    where {{ in_run_window('local_date') }}

),

sensor_days as (

    select
        sensors.sensor_id as asset_id,
        'sensor' as asset_type,
        sensors.sensor_kind as asset_kind,
        sensors.district_id,
        dates.local_date,
        -- one reading per 5 minutes
        288 as expected_intervals,
        coalesce(observed.readings_received, 0) as observed_intervals
    from dates
    inner join sensors on {{ registry_as_of('sensors', registry_day_start('dates.local_date')) }}
    left join observed
        on sensors.sensor_id = observed.sensor_id
        and dates.local_date = observed.local_date
    where sensors.installed_date <= dates.local_date

),

cameras as (

    select * from {{ ref('stg_cctv__cameras') }}

),

clip_hours as (

    select camera_id, local_date, count(distinct local_hour) as hours_with_clips
    from {{ ref('stg_cctv__clips') }}
    group by 1, 2

),

camera_days as (

    select
        cameras.camera_id as asset_id,
        'camera' as asset_type,
        'cctv' as asset_kind,
        cameras.district_id,
        dates.local_date,
        -- the vision job analyses every hour's footage
        24 as expected_intervals,
        coalesce(clip_hours.hours_with_clips, 0) as observed_intervals
    from cameras
    cross join dates
    left join clip_hours
        on cameras.camera_id = clip_hours.camera_id
        and dates.local_date = clip_hours.local_date

),

assets as (

    select * from sensor_days
    union all
    select * from camera_days

),

final as (

    select
        cast(asset_id as varchar) as asset_id,
        cast(local_date as date) as local_date,
        cast(asset_type as varchar) as asset_type,
        cast(asset_kind as varchar) as asset_kind,
        cast(district_id as varchar) as district_id,
        cast(expected_intervals as integer) as expected_intervals,
        cast(least(observed_intervals, expected_intervals) as integer) as observed_intervals,
        cast(round(100.0 * least(observed_intervals, expected_intervals) / expected_intervals, 2) as double)
            as uptime_pct,
        cast(observed_intervals = 0 as boolean) as is_down
    from assets

)

select * from final
