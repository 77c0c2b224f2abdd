"""Which buckets each department may read on a day, and which grants need renewing."""

from __future__ import annotations

from datetime import date

from governance.registry.grants import Grant, grants_due_for_renewal, readable_buckets


def grant(department: str, buckets: list[str], expires_on: date) -> Grant:
    return Grant(
        department=department, buckets=buckets, purpose="test", approved_by="S-003", expires_on=expires_on
    )


GRANTS = [
    grant("traffic", ["marts-traffic"], date(2027, 1, 31)),
    grant("policy_planning", ["marts-traffic", "marts-safety"], date(2026, 12, 10)),
    grant("public_safety", ["marts-traffic"], date(2026, 11, 24)),
]


def test_a_grant_works_through_its_expiry_day_and_not_after() -> None:
    on_expiry = readable_buckets(GRANTS, date(2026, 12, 10))
    assert on_expiry["policy_planning"] == ["marts-safety", "marts-traffic"]
    after = readable_buckets(GRANTS, date(2026, 12, 11))
    assert after["policy_planning"] == []
    assert after["traffic"] == ["marts-traffic"]


def test_every_department_is_listed_even_with_no_grant() -> None:
    readable = readable_buckets(GRANTS, date(2026, 11, 25))
    assert readable["public_safety"] == [] and readable["environment"] == []
    assert set(readable) == {
        "traffic",
        "public_safety",
        "environment",
        "disaster_management",
        "policy_planning",
    }


def test_grants_expiring_within_30_days_or_expired_are_due_for_renewal() -> None:
    assert grants_due_for_renewal(GRANTS, date(2026, 11, 25)) == {"policy_planning": 1, "public_safety": 1}
    assert grants_due_for_renewal(GRANTS, date(2027, 1, 1)) == {
        "traffic": 1,
        "policy_planning": 1,
        "public_safety": 1,
    }


def test_status_reads_current_then_renew_soon_then_expired() -> None:
    traffic = GRANTS[0]  # expires 2027-01-31
    assert traffic.status(date(2026, 12, 31)) == "current"
    assert traffic.status(date(2027, 1, 1)) == "renew soon"
    assert traffic.status(date(2027, 1, 31)) == "renew soon"
    assert traffic.status(date(2027, 2, 1)) == "expired"
