"""The rule for personal data through column lineage: a column derived from a personal column stays
personal when passed on unchanged or transformed, not when only aggregated or masked."""

from __future__ import annotations

from openlineage.client.facet_v2 import column_lineage_dataset as cl

from governance.lineage.dbt import passes_on_personal
from governance.lineage.naming import DatasetId

DETECTIONS = DatasetId("s3://bronze", "cctv/detections")
CAMERAS = DatasetId("s3://bronze", "cctv/cameras")


def derived(*sources: tuple[DatasetId, str, str, bool]) -> cl.Fields:
    return cl.Fields(
        inputFields=[
            cl.InputField(
                d.namespace, d.name, f, transformations=[cl.Transformation("DIRECT", sub, "", masked)]
            )
            for d, f, sub, masked in sources
        ]
    )


def test_passed_on_or_transformed_stays_personal_aggregated_or_masked_does_not() -> None:
    facet = cl.ColumnLineageDatasetFacet(
        fields={
            "track_id": derived((DETECTIONS, "track_id", "IDENTITY", False)),
            "minute": derived((DETECTIONS, "ts", "TRANSFORMATION", False)),
            "tracks": derived((DETECTIONS, "track_id", "AGGREGATION", False)),
            "track_hash": derived((DETECTIONS, "track_id", "TRANSFORMATION", True)),
            "camera_name": derived((CAMERAS, "name", "IDENTITY", False)),
            "label": derived(
                (CAMERAS, "name", "IDENTITY", False), (DETECTIONS, "x1", "TRANSFORMATION", False)
            ),
        }
    )
    personal = {DETECTIONS: {"track_id", "ts", "x1"}}
    assert passes_on_personal(facet, lambda d: personal.get(d, set())) == ["track_id", "minute", "label"]
