"""The dbt resource of the marts domain."""

import dagster as dg

from orchestration.lib.dbt import CityDbt

defs = dg.Definitions(resources={"dbt": CityDbt()})
