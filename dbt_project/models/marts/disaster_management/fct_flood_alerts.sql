{#-
    Flood-alert episodes per river gauge, one row per episode and local day it is active on, each
    row the episode as known at that day's end (so a day's row is the same whether the day is built
    alone or in a backfill). An episode runs across midnight with one alert_id: the day's build reads
    the day before's readings, and those of an episode still open at the end of the day before (from
    this model's own row of that day) back to its start. Rules: dbt vars flood_alert_* (dbt_project.yml).
-#}
{%- set min_readings = var('flood_alert_min_readings') -%}
{%- set clear_margin = var('flood_alert_clear_margin_m') -%}
{%- set max_gap = "interval " ~ var('flood_alert_max_gap_minutes') ~ " minutes" -%}
{%- set stages = {1: 'attention', 2: 'warning', 3: 'alarm'} -%}

with

open_the_day_before as (

    -- episodes the day before the run left open, and where they started
    {% if is_incremental() -%}
    select sensor_id, min(start_at) as start_at
    from {{ this }}
    where local_date = {{ run_start() }} - interval 1 day and is_open_at_day_end
    group by 1
    {%- else -%}
    select cast(null as varchar) as sensor_id, cast(null as timestamp with time zone) as start_at
    where false
    {%- endif %}

),

readings as (

    select classified.*
    from {{ ref('int_river_readings_classified') }} as classified
    left join open_the_day_before on classified.sensor_id = open_the_day_before.sensor_id
    where classified.local_date <= {{ run_end() }}
        and (
            classified.local_date >= {{ run_start() }} - interval 1 day
            or classified.observed_at >= open_the_day_before.start_at
        )

),

sequenced as (

    select
        *,
        -- hysteresis: a reading clears an alert only below attention level minus the margin
        level_m < attention_level_m - {{ clear_margin }} as is_clear,
        lag(observed_at) over by_time as previous_at,
        lag(level_m < attention_level_m - {{ clear_margin }}) over by_time as previous_clear,
        lag(stage_rank) over by_time as previous_rank
    from readings
    window by_time as (partition by sensor_id order by observed_at)

),

numbered as (

    select
        *,
        -- a run: consecutive readings none of which clears; a gap over {{ max_gap }} also ends it
        sum(case
            when not is_clear and (previous_at is null or previous_clear or observed_at - previous_at > {{ max_gap }})
                then 1 else 0
        end) over by_time as run_no,
        {%- for rank in stages %}
        -- a streak at stage {{ rank }}: consecutive 5-minute readings at or above it
        sum(case
            when stage_rank >= {{ rank }}
                and (previous_at is null or previous_rank < {{ rank }} or observed_at - previous_at > interval 5 minutes)
                then 1 else 0
        end) over by_time as streak_{{ rank }}_no{{ "," if not loop.last }}
        {%- endfor %}
    from sequenced
    window by_time as (partition by sensor_id order by observed_at)

),

held as (

    select
        *,
        {%- for rank in stages %}
        -- when the reading's stage-{{ rank }} streak reached the minimum duration (its {{ min_readings }}th reading)
        {{ local_date('case when stage_rank >= ' ~ rank ~ ' then nth_value(observed_at, ' ~ min_readings
            ~ ') over (partition by sensor_id, streak_' ~ rank ~ '_no, stage_rank >= ' ~ rank
            ~ ' order by observed_at rows between unbounded preceding and unbounded following) end') }}
            as held_{{ rank }}_on{{ "," if not loop.last }}
        {%- endfor %}
    from numbered

),

members as (

    select * from held where not is_clear

),

run_days as (

    -- each run on each day of the run it has a reading on, to be described as of that day's end
    select distinct sensor_id, run_no, local_date as as_of
    from members
    where {{ in_run_window('local_date') }}

),

starts as (

    select
        run_days.sensor_id,
        run_days.run_no,
        run_days.as_of,
        {%- for rank, stage in stages.items() %}
        min(members.observed_at) filter (where members.held_{{ rank }}_on <= run_days.as_of)
            as {{ 'start' if rank == 1 else stage }}_at{{ "," if not loop.last }}
        {%- endfor %}
    from run_days
    inner join members
        on run_days.sensor_id = members.sensor_id
        and run_days.run_no = members.run_no
        and members.local_date <= run_days.as_of
    group by 1, 2, 3

),

alerts as (

    select
        starts.sensor_id,
        starts.as_of as local_date,
        starts.start_at,
        starts.warning_at,
        starts.alarm_at,
        any_value(members.district_id) as district_id,
        any_value(members.river_name) as river_name,
        any_value(members.warning_level_m) as warning_level_m,
        any_value(members.alarm_level_m) as alarm_level_m,
        arg_max(members.observed_at, members.level_m) as peak_at,
        max(members.level_m) as peak_level_m,
        max(members.observed_at) filter (where members.stage_rank >= 1) as end_at,
        count(*) filter (where members.stage_rank >= 1) as readings,
        max(members.observed_at) as last_run_reading_at
    from starts
    inner join members
        on starts.sensor_id = members.sensor_id
        and starts.run_no = members.run_no
        and members.local_date <= starts.as_of
        and members.observed_at >= starts.start_at
    where starts.start_at is not null
    group by 1, 2, 3, 4, 5

),

day_last_readings as (

    -- each gauge's last reading of a day: the alert is open at day end when that reading is its own
    select sensor_id, local_date, max(observed_at) as observed_at
    from sequenced
    group by 1, 2

),

rain as (

    select * from {{ ref('int_rain_readings_located') }}
    where local_date between (select min(local_date) from readings) - interval 1 day and {{ run_end() }}

),

district_rain as (

    -- the district's 5-minute rain: mean over its gauges that reported the interval
    select district_id, observed_at, avg(rainfall_mm) as rainfall_mm
    from rain
    group by 1, 2

),

gauge_hours as (

    -- each gauge's rain in the 60 minutes (12 readings) that end with each reading
    select
        district_id,
        observed_at,
        sum(rainfall_mm) over (
            partition by sensor_id order by observed_at range between interval 55 minutes preceding and current row
        ) as rainfall_60min_mm
    from rain

),

rain_before_peak as (

    select
        alerts.sensor_id,
        alerts.local_date,
        alerts.start_at,
        sum(district_rain.rainfall_mm) as rainfall_6h_before_peak_mm
    from alerts
    inner join district_rain
        on alerts.district_id = district_rain.district_id
        and district_rain.observed_at >= alerts.peak_at - interval 6 hours
        and district_rain.observed_at < alerts.peak_at
    group by 1, 2, 3

),

wettest_hour_before_peak as (

    select
        alerts.sensor_id,
        alerts.local_date,
        alerts.start_at,
        max(gauge_hours.rainfall_60min_mm) as max_hourly_rainfall_mm
    from alerts
    inner join gauge_hours
        on alerts.district_id = gauge_hours.district_id
        and gauge_hours.observed_at >= alerts.peak_at - interval 6 hours + interval 55 minutes
        and gauge_hours.observed_at < alerts.peak_at
    group by 1, 2, 3

),

final as (

    select
        cast(alerts.sensor_id || '@' || strftime({{ local_timestamp('alerts.start_at') }}, '%Y-%m-%dT%H:%M')
            as varchar) as alert_id,
        cast(alerts.sensor_id as varchar) as sensor_id,
        cast(alerts.district_id as varchar) as district_id,
        cast(alerts.river_name as varchar) as river_name,
        cast(alerts.local_date as date) as local_date,
        cast(case
            when alerts.alarm_at is not null then 'alarm'
            when alerts.warning_at is not null then 'warning'
            else 'attention'
        end as varchar) as alert_level,
        cast(alerts.start_at as timestamp with time zone) as start_at,
        cast(alerts.warning_at as timestamp with time zone) as warning_at,
        cast(alerts.alarm_at as timestamp with time zone) as alarm_at,
        cast(alerts.peak_at as timestamp with time zone) as peak_at,
        cast(alerts.peak_level_m as double) as peak_level_m,
        cast(alerts.end_at as timestamp with time zone) as end_at,
        cast(date_diff('minute', alerts.start_at, alerts.end_at) + 5 as integer) as duration_minutes,
        cast(alerts.readings as integer) as readings,
        cast(alerts.warning_level_m as double) as warning_level_m,
        cast(alerts.alarm_level_m as double) as alarm_level_m,
        cast(rain_before_peak.rainfall_6h_before_peak_mm as double) as rainfall_6h_before_peak_mm,
        cast(wettest_hour_before_peak.max_hourly_rainfall_mm as double) as max_hourly_rainfall_mm,
        cast({{ local_date('alerts.start_at') }} < alerts.local_date as boolean) as is_continued_from_day_before,
        -- not cleared by the day's last reading, which came within {{ max_gap }} of midnight
        cast(
            day_last_readings.observed_at = alerts.last_run_reading_at
            and {{ local_timestamp('alerts.last_run_reading_at') }}
                >= cast(alerts.local_date + interval 1 day as timestamp) - {{ max_gap }}
            as boolean
        ) as is_open_at_day_end
    from alerts
    inner join day_last_readings
        on alerts.sensor_id = day_last_readings.sensor_id
        and alerts.local_date = day_last_readings.local_date
    left join rain_before_peak
        on alerts.sensor_id = rain_before_peak.sensor_id
        and alerts.local_date = rain_before_peak.local_date
        and alerts.start_at = rain_before_peak.start_at
    left join wettest_hour_before_peak
        on alerts.sensor_id = wettest_hour_before_peak.sensor_id
        and alerts.local_date = wettest_hour_before_peak.local_date
        and alerts.start_at = wettest_hour_before_peak.start_at

)

select * from final
