with

readings as (

    select * from {{ ref('int_noise_readings_assessed') }}
    -- the night of D starts at 22:00 of D-1: the day before supplies its first two hours
    where local_date between {{ run_start() }} - interval 1 day and {{ run_end() }}
        and {{ in_run_window('period_date') }}

),

monitor_periods as (

    -- the standard is a level per measuring point and period: each monitor's energy-mean LAeq
    select
        sensor_id,
        district_id,
        period_date,
        period,
        10 * log10(avg(pow(10, laeq_db / 10))) as monitor_leq_db,
        any_value(limit_db) as limit_db
    from readings
    group by 1, 2, 3, 4

),

monitors_over as (

    select
        district_id,
        period_date,
        period,
        count(*) filter (where round(monitor_leq_db, 1) > limit_db) as monitors_over_limit,
        round(max(monitor_leq_db), 1) as loudest_monitor_leq_db
    from monitor_periods
    group by 1, 2, 3

),

district_periods as (

    select
        district_id,
        period_date,
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
        cast(district_periods.district_id as varchar) as district_id,
        cast(district_periods.period_date as date) as local_date,
        cast(district_periods.period as varchar) as period,
        -- day: 06:00-22:00 of the date; night: 22:00 of the day before to 06:00 of the date
        cast({{ period_bound('district_periods.period_date', 'district_periods.period', 'start') }}
            as timestamp with time zone) as period_start,
        cast({{ period_bound('district_periods.period_date', 'district_periods.period', 'end') }}
            as timestamp with time zone) as period_end,
        cast(district_periods.limit_db as double) as limit_db,
        cast(district_periods.noise_sensors as integer) as noise_sensors,
        cast(district_periods.readings as integer) as readings,
        -- 5-minute readings the monitors would give over the whole period (16 h day, 8 h night)
        cast(district_periods.readings / (district_periods.noise_sensors
            * (case when district_periods.period = 'day' then 16 else 8 end) * 12.0) as double)
            as coverage_share,
        cast(district_periods.leq_db as double) as leq_db,
        cast(district_periods.leq_db > district_periods.limit_db as boolean) as leq_exceeds_limit,
        cast(monitors_over.monitors_over_limit as integer) as monitors_over_limit,
        cast(monitors_over.loudest_monitor_leq_db as double) as loudest_monitor_leq_db,
        cast(district_periods.lamax_db as double) as lamax_db,
        cast(district_periods.readings_over_limit as integer) as readings_over_limit,
        -- each reading covers 5 minutes of one monitor
        cast(district_periods.readings_over_limit * 5 as integer) as monitor_minutes_over_limit,
        cast(district_periods.readings_over_limit / district_periods.readings as double) as exceedance_share,
        cast(district_periods.max_excess_db as double) as max_excess_db
    from district_periods
    inner join monitors_over
        on district_periods.district_id = monitors_over.district_id
        and district_periods.period_date = monitors_over.period_date
        and district_periods.period = monitors_over.period

)

select * from final
