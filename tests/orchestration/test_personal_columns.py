"""Personal data down to the column: the registry's personal columns are tagged in Dagster's column
schema and in OpenLineage's column-level tags (the tags facet's ``field``), and nothing else is."""

from __future__ import annotations

import dagster as dg
import pytest

from governance.lineage import facets
from governance.registry.ownership import load_ownership
from orchestration.lib.lineage import columns_of, stewardship_of
from orchestration.lib.metadata import plain
from orchestration.lib.ownership import PII_TAGS

pytestmark = pytest.mark.integration
DETECTIONS = "cctv/derived/detections"


@pytest.fixture(scope="module")
def specs(definitions: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}


def test_every_personal_column_of_the_registry_is_tagged_in_dagster(specs: dict[str, dg.AssetSpec]) -> None:
    listed = {dataset: o.personal_columns for dataset, o in load_ownership().items() if o.personal_columns}
    assert DETECTIONS in listed
    for dataset, personal in listed.items():
        schema = plain(specs[dataset].metadata["dagster/column_schema"])
        tagged = {c.name for c in schema.columns if PII_TAGS.items() <= c.tags.items()}
        assert tagged == set(personal), dataset  # a listed column the table lacks would show up here
        assert specs[dataset].tags["personal_data"] == "true"


def test_untagged_columns_stay_untagged_and_derived_tables_are_not_personal(
    specs: dict[str, dg.AssetSpec],
) -> None:
    schema = plain(specs[DETECTIONS].metadata["dagster/column_schema"])
    assert {c.name: c.tags for c in schema.columns}["class"] == {}
    counts = plain(specs["cctv/derived/counts"].metadata["dagster/column_schema"])
    assert counts.columns and not [c for c in counts.columns if c.tags]


def test_openlineage_tags_the_personal_columns_and_only_those(specs: dict[str, dg.AssetSpec]) -> None:
    spec = specs[DETECTIONS]
    columns = [c.name for c in columns_of(spec.metadata)]
    tags = facets.governance_facets(stewardship_of(spec), columns)["tags"].tags
    pii = {t.field for t in tags if t.key == "pii" and t.value == "true"}
    assert pii == {None, *load_ownership()[DETECTIONS].personal_columns}  # None: the dataset itself
    assert "class" in columns and "class" not in pii
