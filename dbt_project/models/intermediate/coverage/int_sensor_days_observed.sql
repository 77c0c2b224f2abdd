{%- set kinds = ['air_quality', 'noise', 'traffic', 'rain', 'river_level'] -%}

with

{% for kind in kinds -%}
{{ kind }} as (

    select sensor_id, local_date, observed_at from {{ ref('stg_iot__' ~ kind) }}

),

{% endfor -%}

readings as (

    {% for kind in kinds -%}
    select * from {{ kind }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        sensor_id,
        local_date,
        cast(count(*) as integer) as readings_received,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from readings
    group by 1, 2

)

select * from final
where {{ in_run_window('local_date') }}
