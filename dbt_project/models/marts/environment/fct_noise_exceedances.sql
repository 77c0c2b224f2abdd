with

readings as (

    select * from {{ ref('int_noise_readings_assessed') }}
    where {{ in_run_window('local_date') }}

),

district_periods as (

    select
        district_id,
        local_date,
        period,
        any_value(limit_db) as limit_db,
        count(distinct sensor_id) as noise_sensors,
        count(*) as readings,
        -- energy mean: decibels average as sound energy, not arithmetically
        round(10 * log10(avg(pow(10, laeq_db / 10))), 1) as leq_db,
        max(lamax_db) as lamax_db,
        count(*) filter (where exceeds_limit) as readings_over_limit,
        max(excess_db) as max_excess_db
    from readings
    group by 1, 2, 3

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(period as varchar) as period,
        cast(limit_db as double) as limit_db,
        cast(noise_sensors as integer) as noise_sensors,
        cast(readings as integer) as readings,
        cast(leq_db as double) as leq_db,
        cast(leq_db > limit_db as boolean) as leq_exceeds_limit,
        cast(lamax_db as double) as lamax_db,
        cast(readings_over_limit as integer) as readings_over_limit,
        -- each reading covers 5 minutes of one monitor
        cast(readings_over_limit * 5 as integer) as monitor_minutes_over_limit,
        cast(readings_over_limit / readings as double) as exceedance_share,
        cast(max_excess_db as double) as max_excess_db
    from district_periods

)

select * from final
