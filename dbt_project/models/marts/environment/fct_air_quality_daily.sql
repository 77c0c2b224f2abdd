{%- set min_hours = cai_min_hours()['24h'] -%}

with

hourly as (

    select * from {{ ref('fct_air_quality_hourly') }}
    where {{ in_run_window('local_date') }}

),

district_days as (

    select
        district_id,
        local_date,
        count(*) as hours_reported,
        count(pm10_ugm3 + pm25_ugm3) as particulate_hours,
        max(stations_reporting) as stations_reporting,
        -- the day's 24-hour particulate means (with enough hours); gases at their worst hour
        case when particulate_hours >= {{ min_hours }} then avg(pm10_ugm3) end as pm10_24h_ugm3,
        case when particulate_hours >= {{ min_hours }} then avg(pm25_ugm3) end as pm25_24h_ugm3,
        max(no2_ppm) as no2_max_1h_ppm,
        max(o3_ppm) as o3_max_1h_ppm,
        max(cai) as worst_hour_cai,
        count(*) filter (where cai > 100) as unhealthy_hours
    from hourly
    group by 1, 2

),

indexed as (

    select
        *,
        {{ cai_sub_index('pm10', 'pm10_24h_ugm3') }} as pm10_index,
        {{ cai_sub_index('pm25', 'pm25_24h_ugm3') }} as pm25_index,
        {{ cai_sub_index('no2', 'no2_max_1h_ppm') }} as no2_index,
        {{ cai_sub_index('o3', 'o3_max_1h_ppm') }} as o3_index
    from district_days

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
        cast(hours_reported as integer) as hours_reported,
        cast(particulate_hours as integer) as particulate_hours,
        cast(stations_reporting as integer) as stations_reporting,
        cast(pm10_24h_ugm3 as double) as pm10_24h_ugm3,
        cast(pm25_24h_ugm3 as double) as pm25_24h_ugm3,
        cast(no2_max_1h_ppm as double) as no2_max_1h_ppm,
        cast(o3_max_1h_ppm as double) as o3_max_1h_ppm,
        cast(pm10_index as integer) as pm10_index,
        cast(pm25_index as integer) as pm25_index,
        cast(no2_index as integer) as no2_index,
        cast(o3_index as integer) as o3_index,
        cast(unhealthy_pollutants as integer) as unhealthy_pollutants,
        cast(case when cai is not null then addon end as integer) as cai_addon,
        cast(cai as integer) as cai,
        -- the category of the final value, add-on included
        cast({{ cai_category('cai') }} as varchar) as cai_category,
        cast({{ cai_category_ko('cai') }} as varchar) as cai_category_ko,
        cast({{ cai_main_pollutant('pm10_index', 'pm25_index', 'no2_index', 'o3_index') }} as varchar)
            as main_pollutant,
        cast(worst_hour_cai as integer) as worst_hour_cai,
        cast(unhealthy_hours as integer) as unhealthy_hours,
        cast(case
            when particulate_hours < {{ min_hours }}
                then 'particulates in ' || particulate_hours || ' of 24 hours (needs {{ min_hours }})'
            when no2_max_1h_ppm is null then 'no NO2 reading in the day'
            when o3_max_1h_ppm is null then 'no O3 reading in the day'
        end as varchar) as cai_null_reason
    from scored

)

select * from final
