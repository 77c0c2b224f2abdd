"""Where lineage's owners come from is in the facets: the ledger, or the registry alone because the
ledger could not be read, said as such (tag ``ownership_source``), never passed off as the ledger's."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings
from governance.lineage.facets import OWNERSHIP_SOURCE, governance_facets
from governance.lineage.graph import LineageGraph
from governance.registry.registry import load_registry
from governance.stewardship.handover import plan_handover
from governance.stewardship.identity import Requester
from governance.stewardship.ledger_store import CurrentOwnership, OwnershipLedger
from orchestration.lib.lineage import stewardship_of
from orchestration.lib.ownership import apply_ownership, load_current_ownership

pytestmark = pytest.mark.integration

RAW = "iot/raw/readings"


def source_tag(ownership: CurrentOwnership) -> str | None:
    """The ``ownership_source`` tag lineage sends for the asset, owned as ``ownership`` says."""
    spec = apply_ownership(dg.AssetSpec(dg.AssetKey.from_user_string(RAW)), ownership)
    tags = governance_facets(stewardship_of(spec), [])["tags"].tags
    return {t.key: t.value for t in tags if t.field is None}.get(OWNERSHIP_SOURCE)


def test_owners_from_a_readable_ledger_name_it_and_an_unreadable_one_says_so(city_settings: Settings) -> None:
    store = ObjectStore.from_settings(city_settings)
    registry = load_registry()
    ledger = OwnershipLedger(store)
    ledger.append(
        plan_handover(
            registry,
            registry.ownership,
            dataset=RAW,
            to_staff="S-011",
            requester=Requester("S-014", "environment"),
            approved_by="S-003",
            reason="set-up",
            on=date.today(),
        )
    )
    read = load_current_ownership(registry)
    assert read.source.startswith(f"registry baseline + {ledger.uri()} (1 handovers")
    assert read.datasets[RAW].steward == "S-011"

    (entry,) = store.list_objects(ledger.bucket, ledger.prefix)  # tampered: the chain no longer holds
    store.put_bytes(
        entry.bucket, entry.key, store.get_bytes(entry.bucket, entry.key).replace(b"S-011", b"S-018")
    )
    unreadable = load_current_ownership(registry)
    assert unreadable.source.startswith("registry (ledger unreadable: ")
    assert unreadable.datasets[RAW].steward == registry.ownership[RAW].steward  # the baseline's owners

    assert source_tag(unreadable) == unreadable.source  # in the tags facet of every dataset
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-14T00:00:00+00:00",
        "job": {"namespace": "smart-city", "name": RAW},
        "run": {"runId": "00000000-0000-0000-0000-000000000001"},
        "outputs": [
            {
                "namespace": "s3://landing",
                "name": "iot",
                "facets": {"tags": {"tags": [{"key": OWNERSHIP_SOURCE, "value": unreadable.source}]}},
            }
        ],
    }
    (state,) = LineageGraph([event]).datasets.values()
    assert state.ownership_note == unreadable.source  # what `city lineage` and the report print
    event["outputs"][0]["facets"]["tags"]["tags"][0]["value"] = read.source
    (state,) = LineageGraph([event]).datasets.values()
    assert state.ownership_note is None
