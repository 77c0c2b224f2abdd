-- The registry as it is now: the open version of every key still registered.
select * exclude (valid_from, valid_to)
from {{ ref('stg_iot__district_versions') }}
where valid_to = 'infinity'
