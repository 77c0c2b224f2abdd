"""The ownership ledger: hash chain, tamper detection, versions, handover rules (approval by role,
the requester), and storage on a real S3 server."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cityplatform.objectstore import ObjectStore
from governance.registry.registry import Registry, load_registry
from governance.stewardship.handover import HandoverRefused, plan_handover
from governance.stewardship.identity import Requester
from governance.stewardship.ledger import (
    GENESIS,
    Handover,
    LedgerEntry,
    Verification,
    apply_entries,
    continues,
    entry_hash,
    seal,
    verify_chain,
)
from governance.stewardship.ledger_store import (
    LedgerBroken,
    LedgerConflict,
    OwnershipLedger,
    current_ownership,
)
from governance.stewardship.training import qualification
from tests.governance.registry_files import city_today
from tests.governance.registry_files import trained_registry as trained_copy

DAY = city_today()


def handover(
    dataset: str = "iot/bronze/river_gauges", to: str = "S-011", reason: str = "moves to hydrology"
) -> Handover:
    return Handover(dataset, "steward", "S-022", to, reason, "S-022", "S-003", "environment")


def chain(*handovers: Handover) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    for item in handovers:
        entries.append(
            seal(
                item,
                len(entries) + 1,
                entries[-1].hash if entries else GENESIS,
                datetime(2026, 11, 25, tzinfo=UTC),
            )
        )
    return entries


def stored(entries: list[LedgerEntry]) -> list[tuple[str, bytes]]:
    return [(entry.name, entry.to_bytes()) for entry in entries]


def three() -> list[tuple[str, bytes]]:
    return stored(chain(handover(), handover("iot/bronze/districts", "S-011"), handover(to="S-014")))


def test_an_untouched_chain_verifies_and_links_every_entry() -> None:
    objects = three()
    result = verify_chain(objects)
    assert result.ok and len(result.entries) == 3
    assert result.entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in result.entries[1:]] == [e.hash for e in result.entries[:-1]]
    assert result.head == result.entries[-1].hash


def test_hash_is_sha256_of_canonical_json_without_the_hash() -> None:
    entry = chain(handover())[0]
    fields = json.loads(entry.to_bytes())
    body = json.dumps({k: v for k, v in fields.items() if k != "hash"}, sort_keys=True, separators=(",", ":"))
    assert entry.hash == hashlib.sha256(body.encode()).hexdigest() == entry_hash(fields)


def test_a_changed_field_is_named_as_the_first_broken_entry() -> None:
    objects = three()
    name, raw = objects[1]
    objects[1] = (name, raw.replace(b'"to_staff":"S-011"', b'"to_staff":"S-007"'))
    result = verify_chain(objects)
    assert not result.ok
    assert result.broken_at == name
    assert "hash mismatch" in (result.problem or "")
    assert len(result.entries) == 1


def test_a_rehashed_forgery_is_caught_by_its_name_or_by_the_next_entry() -> None:
    objects = three()
    forged = json.loads(objects[1][1]) | {"to_staff": "S-007"}
    forged["hash"] = entry_hash(forged)
    forged_bytes = json.dumps(forged).encode()
    kept_name = verify_chain([*objects[:1], (objects[1][0], forged_bytes), *objects[2:]])
    assert kept_name.broken_at == objects[1][0] and "name does not carry its hash" in (
        kept_name.problem or ""
    )
    renamed = LedgerEntry.model_validate(forged).name
    result = verify_chain([*objects[:1], (renamed, forged_bytes), *objects[2:]])
    assert result.broken_at == objects[2][0]
    assert "prev_hash differs" in (result.problem or "")


def test_a_removed_entry_is_detected() -> None:
    objects = three()
    result = verify_chain([objects[0], objects[2]])
    assert result.broken_at == objects[2][0]
    assert "entry 2 is missing" in (result.problem or "")


def test_reordered_entries_are_detected() -> None:
    objects = three()
    swapped = [objects[0], (objects[1][0], objects[2][1]), (objects[2][0], objects[1][1])]
    assert verify_chain(swapped).broken_at == objects[1][0]


def test_garbage_and_forks_are_detected() -> None:
    objects = three()
    assert "not a valid entry" in (verify_chain([objects[0], (objects[1][0], b"{not json")]).problem or "")
    rival = chain(handover(), handover(to="S-025"))[1]
    forked = sorted([*objects[:2], (rival.name, rival.to_bytes())])
    assert "the ledger forked" in (verify_chain(forked).problem or "")


def test_a_chain_continues_the_one_seen_only_if_it_still_holds_the_head_seen() -> None:
    entries = chain(handover(), handover("iot/bronze/districts", "S-011"), handover(to="S-014"))
    assert continues(entries, 2, entries[1].hash) is None  # one more since
    assert continues(entries, 3, entries[2].hash) is None
    assert continues([], 0, "empty") is None
    assert "the newest were removed" in (continues(entries[:2], 3, entries[2].hash) or "")
    rewritten = chain(handover(), handover(to="S-025"), handover(to="S-014"))
    assert verify_chain(stored(rewritten)).ok
    assert "entry 2 is not the one seen" in (continues(rewritten, 2, entries[1].hash) or "")


# An entry exactly as version 1 of the ledger recorded it (no version, no requested_via).
V1_NAME = "00000001-da956ea82d845a56.json"
V1_BYTES = (
    b'{"approved_by":"S-003","dataset":"iot/bronze/river_gauges","from_staff":"S-022",'
    b'"hash":"da956ea82d845a566054e1866b3555a9d97e62b876ab9941770370361662e29e",'
    b'"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",'
    b'"reason":"moves to hydrology","recorded_at":"2026-11-25T00:00:00Z","requested_by":"S-022",'
    b'"role":"steward","seq":1,"to_staff":"S-011"}'
)


def test_a_version_1_ledger_still_verifies_and_version_2_entries_continue_it() -> None:
    (old,) = verify_chain([(V1_NAME, V1_BYTES)]).entries
    assert (old.version, old.requested_via) == (1, None)
    assert old.to_bytes() == V1_BYTES  # rewritten byte for byte: its hash still holds
    new = seal(handover(to="S-014"), 2, old.hash, datetime(2026, 12, 1, tzinfo=UTC))
    assert json.loads(new.to_bytes())["version"] == 2 and new.requested_via == "environment"
    result = verify_chain([(V1_NAME, V1_BYTES), (new.name, new.to_bytes())])
    assert result.ok and [e.version for e in result.entries] == [1, 2]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "a version 2 entry records requested_via"),
        ({"requested_via": "token"}, "requested_via needs version 2"),
    ],
)
def test_a_version_and_its_fields_go_together(change: dict[str, object], message: str) -> None:
    fields = {k: v for k, v in json.loads(V1_BYTES).items() if k != "hash"} | change
    fields["hash"] = entry_hash(fields)
    name = f"00000001-{fields['hash'][:16]}.json"
    result = verify_chain([(name, json.dumps(fields).encode())])
    assert "not a valid entry" in (result.problem or "") and message in (result.problem or "")


def test_current_ownership_is_the_baseline_with_handovers_applied_in_order() -> None:
    registry = load_registry()
    deputy = Handover(
        "iot/bronze/river_gauges", "deputy", "S-011", "S-003", "cover", "S-014", "S-007", "token"
    )
    retired = Handover("iot/bronze/retired", "steward", "S-022", "S-011", "gone", "S-022", "S-003", "token")
    entries = chain(handover(to="S-014"), handover(to="S-011"), deputy, retired)
    current = apply_entries(registry.ownership, entries)
    assert (current["iot/bronze/river_gauges"].steward, current["iot/bronze/river_gauges"].deputy) == (
        "S-011",
        "S-003",
    )
    assert current["iot/raw/readings"] == registry.ownership["iot/raw/readings"]
    assert "iot/bronze/retired" not in current


@pytest.fixture
def trained_registry(tmp_path: Path) -> Registry:
    return load_registry(trained_copy(tmp_path / "registry"))


def plan(registry: Registry, requester: str = "S-022", **overrides: str) -> Handover:
    """A handover of the river gauges (disaster_management, public; steward S-022, deputy S-011)
    that S-022 asks for in dev, approved by S-003, a governance officer, unless overridden."""
    arguments: dict[str, Any] = {
        "dataset": "iot/bronze/river_gauges",
        "to_staff": "S-014",
        "approved_by": "S-003",
        "reason": "new role",
    }
    arguments |= overrides
    return plan_handover(
        registry, registry.ownership, requester=Requester(requester, "environment"), on=DAY, **arguments
    )


RIVER_APPROVERS = (
    "who may approve: S-043 Lim Hye-jin (head of disaster_management), "
    "S-003 Kim Min-ji (governance officer), S-030 Han So-hee (governance officer)"
)


def test_a_valid_handover_records_who_asked_and_how_they_were_identified(trained_registry: Registry) -> None:
    change = plan(trained_registry)
    assert (change.from_staff, change.to_staff, change.requested_by, change.approved_by) == (
        "S-022",
        "S-014",
        "S-022",
        "S-003",
    )
    assert change.requested_via == "environment"


@pytest.mark.parametrize("approver", ["S-043", "S-003", "S-030"])
def test_the_department_head_or_a_governance_officer_approves(
    trained_registry: Registry, approver: str
) -> None:
    assert plan(trained_registry, approved_by=approver).approved_by == approver


@pytest.mark.parametrize(
    ("approver", "who"),
    [
        ("S-025", "S-025 Yoon Ji-woo"),  # a policy analyst: no approving role
        ("S-040", "S-040 Shin Dong-hyun (head of traffic)"),  # the head of another department
    ],
)
def test_approval_by_someone_without_the_role_is_refused_naming_who_may(
    trained_registry: Registry, approver: str, who: str
) -> None:
    with pytest.raises(HandoverRefused) as refused:
        plan(trained_registry, approved_by=approver)
    assert str(refused.value) == (
        f"{who} may not approve handovers of iot/bronze/river_gauges (disaster_management); {RIVER_APPROVERS}"
    )


def test_the_current_steward_cannot_approve_their_own_handover(trained_registry: Registry) -> None:
    with pytest.raises(HandoverRefused) as refused:
        plan(trained_registry, approved_by="S-022")
    assert str(refused.value) == (
        "S-022 is the current steward of iot/bronze/river_gauges and requests this handover: "
        f"someone else must approve it; {RIVER_APPROVERS}"
    )


def test_the_outgoing_deputy_cannot_approve_their_replacement_even_with_the_role(
    trained_registry: Registry,
) -> None:
    """iot/bronze/districts: steward S-025, deputy S-003 (a governance officer), policy_planning."""
    with pytest.raises(HandoverRefused) as refused:
        plan(
            trained_registry, "S-025", dataset="iot/bronze/districts", role="deputy", to_staff="S-014",
            approved_by="S-003",
        )  # fmt: skip
    assert str(refused.value) == (
        "S-003 is the current deputy of iot/bronze/districts: someone else must approve it; who may "
        "approve: S-044 Bae Sung-min (head of policy_planning), S-030 Han So-hee (governance officer)"
    )


def test_an_approver_with_the_role_but_lapsed_training_is_refused(tmp_path: Path) -> None:
    registry = load_registry(trained_copy(tmp_path / "registry", {"S-030": DAY - timedelta(days=800)}))
    with pytest.raises(HandoverRefused) as refused:
        plan(registry, approved_by="S-030")
    assert str(refused.value).startswith(
        f"S-030 has no current training for public data on {DAY} (stewardship-fundamentals (expired)) "
        "and cannot approve; who may approve: S-043 Lim Hye-jin (head of disaster_management), "
        "S-003 Kim Min-ji (governance officer)"
    )


def test_when_nobody_may_approve_the_refusal_says_so(tmp_path: Path) -> None:
    lapsed = DAY - timedelta(days=800)
    registry = load_registry(
        trained_copy(tmp_path / "registry", dict.fromkeys(("S-003", "S-030", "S-043"), lapsed))
    )
    with pytest.raises(HandoverRefused) as refused:
        plan(registry, approved_by="S-043")
    assert str(refused.value).endswith(
        "nobody may approve it today: no active head of disaster_management or governance officer trained "
        "for public data is free of it (staff.yaml governance_role)"
    )


def test_an_inactive_approver_is_refused(tmp_path: Path) -> None:
    directory = trained_copy(tmp_path / "registry")
    staff = directory / "staff.yaml"
    staff.write_text(
        staff.read_text().replace(
            "director of disaster management, governance_role: department_head, active: true",
            "director of disaster management, governance_role: department_head, active: false",
        )
    )
    with pytest.raises(
        HandoverRefused, match="--approved-by: S-043 Lim Hye-jin is no longer active; who may approve: S-003"
    ):
        plan(load_registry(directory), approved_by="S-043")


def test_the_requester_is_an_owner_or_may_approve(trained_registry: Registry) -> None:
    with pytest.raises(HandoverRefused) as refused:
        plan(trained_registry, "S-025")
    assert str(refused.value) == (
        "S-025 may not request a handover of iot/bronze/river_gauges: its steward S-022, its deputy S-011, "
        "the head of disaster_management or a governance officer may"
    )
    assert plan(trained_registry, "S-011").requested_by == "S-011"  # the deputy, when the steward left
    by_head = plan(trained_registry, "S-043", approved_by="S-030")
    assert (by_head.requested_by, by_head.approved_by) == ("S-043", "S-030")
    with pytest.raises(HandoverRefused, match="S-043 requests this handover: someone else must approve it"):
        plan(trained_registry, "S-043", approved_by="S-043")
    with pytest.raises(HandoverRefused, match="CITY_STAFF_ID: unknown staff id S-099"):
        plan(trained_registry, "S-099")


def test_the_successor_cannot_approve_it_either(trained_registry: Registry) -> None:
    with pytest.raises(HandoverRefused, match="S-030 cannot approve a handover to themselves; who may"):
        plan(trained_registry, to_staff="S-030", approved_by="S-030")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "iot/bronze/nothing"}, "unknown dataset 'iot/bronze/nothing'"),
        ({"to_staff": "S-999"}, "--to: unknown staff id S-999"),
        ({"approved_by": "S-998"}, "--approved-by: unknown staff id S-998"),
        ({"to_staff": "S-022"}, "S-022 is already the steward"),
        ({"to_staff": "S-011"}, "S-011 is the deputy of iot/bronze/river_gauges; name a new deputy first"),
        ({"reason": "   "}, "--reason is required"),
    ],
)
def test_refusals(trained_registry: Registry, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(HandoverRefused, match=message):
        plan(trained_registry, **overrides)


def test_no_handover_to_someone_untrained_for_the_classification(tmp_path: Path) -> None:
    registry = load_registry(trained_copy(tmp_path / "registry", {"S-025": DAY - timedelta(days=800)}))
    assert not qualification(registry, "S-025", "public", DAY).trained
    with pytest.raises(HandoverRefused, match=f"S-025 has no current training for public data on {DAY}"):
        plan(registry, to_staff="S-025", reason="x")


# --- on the real S3 server -------------------------------------------------------------------------------


@pytest.fixture
def ledger(store: ObjectStore) -> OwnershipLedger:
    return OwnershipLedger(store, f"s3://governance/test-ledger-{uuid.uuid4().hex[:8]}/")


@pytest.mark.integration
def test_appends_are_stored_one_object_each_and_drive_current_ownership(
    ledger: OwnershipLedger, trained_registry: Registry
) -> None:
    assert ledger.verify().ok and ledger.entries() == ()
    first = ledger.append(plan(trained_registry))
    current = current_ownership(trained_registry, ledger)
    second = ledger.append(plan_handover(
        trained_registry, current.datasets, dataset="iot/bronze/river_gauges", to_staff="S-007",
        requester=Requester("S-014", "token"), approved_by="S-003", reason="rotation", on=DAY,
    ))  # fmt: skip
    assert (second.requested_by, second.requested_via) == ("S-014", "token")  # the steward since the first
    assert [o.key for o in ledger.store.list_objects(ledger.bucket, ledger.prefix)] == [
        ledger.prefix + first.name,
        ledger.prefix + second.name,
    ]
    assert second.prev_hash == first.hash
    assert current_ownership(trained_registry, ledger).datasets["iot/bronze/river_gauges"].steward == "S-007"


@pytest.mark.integration
def test_tampering_in_the_object_store_is_named_and_nothing_more_is_appended(
    ledger: OwnershipLedger, trained_registry: Registry
) -> None:
    first = ledger.append(plan(trained_registry))
    key = ledger.prefix + first.name
    raw = ledger.store.get_bytes(ledger.bucket, key)
    ledger.store.put_bytes(
        ledger.bucket, key, raw.replace(b'"reason":"new role"', b'"reason":"nothing to see"')
    )
    result = ledger.verify()
    assert result.broken_at == first.name and "hash mismatch" in (result.problem or "")
    with pytest.raises(LedgerBroken, match=first.name):
        ledger.append(plan(trained_registry, to_staff="S-007"))
    with pytest.raises(LedgerBroken):
        current_ownership(trained_registry, ledger)


class _StaleLedger(OwnershipLedger):
    """A writer whose view of the chain was read just before another writer appended."""

    def __init__(self, store: ObjectStore, location: str, snapshot: OwnershipLedger) -> None:
        super().__init__(store, location)
        self._snapshot = snapshot.verified()

    def verified(self) -> Verification:
        return self._snapshot


@pytest.mark.integration
def test_a_handover_racing_for_the_same_position_loses_and_leaves_no_fork(
    ledger: OwnershipLedger, trained_registry: Registry
) -> None:
    ledger.append(plan(trained_registry))
    slow = _StaleLedger(ledger.store, ledger.location, ledger)
    current = current_ownership(trained_registry, ledger).datasets
    steward = Requester("S-014", "environment")
    winner = ledger.append(plan_handover(
        trained_registry, current, dataset="iot/bronze/river_gauges", to_staff="S-007",
        requester=steward, approved_by="S-003", reason="first", on=DAY,
    ))  # fmt: skip
    with pytest.raises(LedgerConflict, match="run again"):
        slow.append(plan_handover(
            trained_registry, current, dataset="iot/bronze/river_gauges", to_staff="S-018",
            requester=steward, approved_by="S-003", reason="second", on=DAY,
        ))  # fmt: skip
    result = ledger.verify()
    assert result.ok and result.entries[-1] == winner
