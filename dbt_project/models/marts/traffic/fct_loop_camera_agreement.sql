{#- DfT TAG Unit M3.1, Table 2: an hourly flow agrees with its count when GEH < 5. -#}
{%- set geh_agreement = 5 -%}

with

segment_hours as (

    select * from {{ ref('fct_segment_traffic_hourly') }}
    where {{ in_run_window('local_date') }} and volume_source = 'loop+cctv'

),

compared as (

    select
        *,
        sqrt(2 * power(cctv_volume_vph - loop_volume_vph, 2) / nullif(cctv_volume_vph + loop_volume_vph, 0))
            as geh
    from segment_hours

),

final as (

    select
        cast(segment_id as varchar) as segment_id,
        cast(district_id as varchar) as district_id,
        cast(local_date as date) as local_date,
        cast(hour_start as timestamp with time zone) as hour_start,
        cast(local_hour as integer) as local_hour,
        cast(loop_volume_vph as double) as loop_volume_vph,
        cast(cctv_volume_vph as double) as cctv_volume_vph,
        cast(cctv_observed_seconds as double) as cctv_observed_seconds,
        cast(cctv_volume_vph / nullif(loop_volume_vph, 0) as double) as camera_to_loop_ratio,
        -- both zero: the same (empty) road
        cast(coalesce(geh, 0) as double) as geh,
        cast(coalesce(geh, 0) < {{ geh_agreement }} as boolean) as agrees
    from compared

)

select * from final
