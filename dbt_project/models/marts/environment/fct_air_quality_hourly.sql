with

district_hours as (

    select * from {{ ref('int_air_quality_district_hours_aggregated') }}
    -- the day before the run supplies the 24-hour particulate means of the run's first hours
    where local_date between {{ run_start() }} - interval 1 day and {{ run_end() }}

),

rolling as (

    select
        *,
        avg(pm10_ugm3) over trailing_day as pm10_24h_ugm3,
        avg(pm25_ugm3) over trailing_day as pm25_24h_ugm3,
        count(*) over trailing_day as hours_in_24h_mean
    from district_hours
    window trailing_day as (
        partition by district_id order by hour_start
        range between interval 23 hours preceding and current row
    )

),

indexed as (

    select
        *,
        {{ cai_sub_index('pm10', 'pm10_24h_ugm3') }} as pm10_index,
        {{ cai_sub_index('pm25', 'pm25_24h_ugm3') }} as pm25_index,
        {{ cai_sub_index('no2', 'no2_ppm') }} as no2_index,
        {{ cai_sub_index('o3', 'o3_ppm') }} as o3_index
    from rolling
    where {{ in_run_window('local_date') }}

),

scored as (

    select
        *,
        {{ cai_scores() }}
    from indexed

),

final as (

    select
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(hour_start as timestamp with time zone) as hour_start,
        cast(local_hour as integer) as local_hour,
        cast(stations_reporting as integer) as stations_reporting,
        cast(pm10_ugm3 as double) as pm10_ugm3,
        cast(pm25_ugm3 as double) as pm25_ugm3,
        cast(pm10_24h_ugm3 as double) as pm10_24h_ugm3,
        cast(pm25_24h_ugm3 as double) as pm25_24h_ugm3,
        cast(hours_in_24h_mean as integer) as hours_in_24h_mean,
        cast(no2_ppm as double) as no2_ppm,
        cast(o3_ppm as double) as o3_ppm,
        cast(pm10_index as integer) as pm10_index,
        cast(pm25_index as integer) as pm25_index,
        cast(no2_index as integer) as no2_index,
        cast(o3_index as integer) as o3_index,
        cast(unhealthy_pollutants as integer) as unhealthy_pollutants,
        cast(case when cai is not null then addon end as integer) as cai_addon,
        cast(cai as integer) as cai,
        -- the category of the final value, add-on included
        cast({{ cai_category('cai') }} as varchar) as cai_category,
        cast({{ cai_main_pollutant('pm10_index', 'pm25_index', 'no2_index', 'o3_index') }} as varchar)
            as main_pollutant
    from scored

)

select * from final
