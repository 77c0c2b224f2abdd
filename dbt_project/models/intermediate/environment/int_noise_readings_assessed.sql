with

readings as (

    select * from {{ ref('stg_iot__noise') }}

),

monitors as (

    select sensor_id, district_id, valid_from, valid_to
    from {{ ref('stg_iot__sensor_versions') }}
    where sensor_kind = 'noise'

),

districts as (

    select * from {{ ref('stg_iot__district_versions') }}

),

assessed as (

    select
        readings.sensor_id,
        monitors.district_id,
        readings.local_date,
        readings.observed_at,
        {{ local_hour('readings.observed_at') }} as local_hour,
        readings.laeq_db,
        readings.lamax_db,
        case when {{ is_night(local_hour('readings.observed_at')) }} then 'night' else 'day' end as period,
        -- a night is filed under the date it ends on: 22:00-24:00 opens the next date's night
        {{ period_date('readings.local_date', local_hour('readings.observed_at')) }} as period_date,
        case
            when {{ is_night(local_hour('readings.observed_at')) }} then districts.noise_limit_night_db
            else districts.noise_limit_day_db
        end as limit_db
    from readings
    inner join monitors
        on readings.sensor_id = monitors.sensor_id and {{ registry_as_of('monitors', 'readings.observed_at') }}
    inner join districts
        on monitors.district_id = districts.district_id and {{ registry_as_of('districts', 'readings.observed_at') }}

),

final as (

    select
        *,
        laeq_db - limit_db as excess_db,
        laeq_db > limit_db as exceeds_limit
    from assessed

)

select * from final
where {{ in_run_window('local_date') }}
