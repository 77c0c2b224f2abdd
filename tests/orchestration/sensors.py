"""One tick of a platform sensor, evaluated the way the daemon would, against the test's instance."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.resources import CityStorage


def tick_sensor(
    definitions: dg.Definitions, instance: dg.DagsterInstance, name: str, cursor: str | None = None
) -> dg.SensorResult:
    sensor = definitions.resolve_sensor_def(name)
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"storage": CityStorage()}
    ) as context:
        return sensor(context)
