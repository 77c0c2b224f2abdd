"""Stewardship rules: who is trained for what on which day, and pass / warn / fail per dataset."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from governance.registry.ownership import Ownership
from governance.registry.registry import Registry, load_registry
from governance.stewardship.rules import Status, assess_dataset
from governance.stewardship.training import CourseState, course_status, qualification
from tests.governance.registry_files import all_courses, copy_registry, write_training

DAY = date(2026, 6, 1)
# fundamentals and data-quality last 24 months, secure-handling and personal-data-cctv 12.
LONG_AGO = date(2024, 1, 10)  # everything expired by DAY
RECENT = date(2026, 1, 10)  # everything current on DAY


def registry_with(
    tmp_path: Path, completions: dict[str, dict[str, date]], inactive: tuple[str, ...] = ()
) -> Registry:
    directory = copy_registry(tmp_path / "registry")
    write_training(directory, completions)
    staff = directory / "staff.yaml"
    for staff_id in inactive:
        lines = [
            line.replace("active: true", "active: false") if f"id: {staff_id}," in line else line
            for line in staff.read_text().splitlines(keepends=True)
        ]
        staff.write_text("".join(lines))
    return load_registry(directory)


def owned(steward: str, deputy: str, classification: str = "internal") -> Ownership:
    return Ownership(
        steward=steward, deputy=deputy, department="traffic", classification=classification, retention_days=30
    )


def test_a_course_counts_from_completion_until_the_day_it_expires(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, {"S-007": {"stewardship-fundamentals": date(2025, 3, 10)}})
    assert (
        course_status(registry, "S-007", "stewardship-fundamentals", date(2025, 3, 9)).state
        is CourseState.MISSING
    )
    assert qualification(registry, "S-007", "public", date(2025, 3, 10)).trained
    assert qualification(registry, "S-007", "public", date(2027, 3, 9)).trained
    # 24 months later: expired
    assert not qualification(registry, "S-007", "public", date(2027, 3, 10)).trained
    expired = course_status(registry, "S-007", "stewardship-fundamentals", date(2027, 3, 10))
    assert (expired.state, expired.expires_on) == (CourseState.EXPIRED, date(2027, 3, 10))


def test_expiring_means_within_30_days(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, {"S-007": {"stewardship-fundamentals": date(2025, 3, 10)}})
    expiry = date(2027, 3, 10)
    assert (
        course_status(registry, "S-007", "stewardship-fundamentals", expiry - timedelta(31)).state
        is CourseState.CURRENT
    )
    assert (
        course_status(registry, "S-007", "stewardship-fundamentals", expiry - timedelta(30)).state
        is CourseState.EXPIRING
    )
    assert (
        course_status(registry, "S-007", "stewardship-fundamentals", expiry - timedelta(1)).state
        is CourseState.EXPIRING
    )


def test_a_renewal_replaces_the_older_completion(tmp_path: Path) -> None:
    directory = copy_registry(tmp_path / "registry")
    (directory / "training.yaml").write_text(
        "completions:\n"
        "  - {staff: S-014, course: stewardship-fundamentals, completed_on: 2023-01-05}\n"
        "  - {staff: S-014, course: stewardship-fundamentals, completed_on: 2025-12-01}\n"
    )
    registry = load_registry(directory)
    assert course_status(registry, "S-014", "stewardship-fundamentals", DAY).expires_on == date(2027, 12, 1)
    assert qualification(registry, "S-014", "public", DAY).trained


def test_each_level_needs_all_of_its_courses(tmp_path: Path) -> None:
    courses = all_courses(RECENT)
    del courses["personal-data-cctv"]
    registry = registry_with(tmp_path, {"S-018": courses})
    assert qualification(registry, "S-018", "restricted", DAY).trained
    standing = qualification(registry, "S-018", "personal", DAY)
    assert not standing.trained
    assert [(c.course, c.state) for c in standing.lapsed] == [("personal-data-cctv", CourseState.MISSING)]
    assert qualification(registry, "S-018", "restricted", DAY).expires_on == date(2027, 1, 10)


def test_pass_when_both_owners_are_trained(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, {"S-007": all_courses(RECENT), "S-014": all_courses(RECENT)})
    result = assess_dataset(registry, "iot/raw/readings", owned("S-007", "S-014"), DAY)
    assert result.status is Status.PASS
    assert result.trained_owners == ("S-007", "S-014")
    assert result.required == ("stewardship-fundamentals", "data-quality")


def test_the_deputy_counts_as_an_owner(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, {"S-007": all_courses(LONG_AGO), "S-014": all_courses(RECENT)})
    result = assess_dataset(registry, "iot/raw/readings", owned("S-007", "S-014"), DAY)
    assert result.status is Status.PASS
    assert result.trained_owners == ("S-014",)


def test_fail_when_no_owner_has_current_training(tmp_path: Path) -> None:
    registry = registry_with(
        tmp_path, {"S-007": all_courses(LONG_AGO), "S-014": {"stewardship-fundamentals": RECENT}}
    )
    result = assess_dataset(registry, "iot/raw/readings", owned("S-007", "S-014"), DAY)
    assert result.status is Status.FAIL
    assert (
        "no owner has current training for internal (stewardship-fundamentals, data-quality)"
        in result.reasons
    )


def test_fail_when_training_fits_a_lower_classification_only(tmp_path: Path) -> None:
    courses = all_courses(RECENT)
    del courses["personal-data-cctv"]
    registry = registry_with(tmp_path, {"S-007": courses, "S-014": courses})
    assert assess_dataset(registry, "cctv", owned("S-007", "S-014", "restricted"), DAY).status is Status.PASS
    assert assess_dataset(registry, "cctv", owned("S-007", "S-014", "personal"), DAY).status is Status.FAIL


def test_fail_when_an_owner_is_inactive_even_if_the_other_is_trained(tmp_path: Path) -> None:
    # S-040 owns nothing in the baseline (a baseline naming an inactive owner is refused on load):
    # here the ledger made them deputy before they left
    registry = registry_with(
        tmp_path, {"S-007": all_courses(RECENT), "S-040": all_courses(RECENT)}, inactive=("S-040",)
    )
    result = assess_dataset(registry, "iot/raw/readings", owned("S-007", "S-040"), DAY)
    assert result.status is Status.FAIL
    assert result.trained_owners == ("S-007",)
    assert any("deputy S-040" in r and "no longer active" in r for r in result.reasons), result.reasons


def test_fail_when_an_owner_is_not_on_the_staff_list(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, {"S-007": all_courses(RECENT)})
    result = assess_dataset(registry, "iot/raw/readings", owned("S-007", "S-777"), DAY)
    assert result.status is Status.FAIL
    assert "S-777 (not on the staff list)" in result.reasons[0]


@pytest.mark.parametrize(("days_left", "status"), [(31, Status.PASS), (30, Status.WARN), (1, Status.WARN)])
def test_warn_when_an_owners_required_training_expires_within_30_days(
    tmp_path: Path, days_left: int, status: Status
) -> None:
    on = date(2027, 1, 10) - timedelta(days=days_left)  # secure-handling (12 months) expires 2027-01-10
    registry = registry_with(tmp_path, {"S-007": all_courses(RECENT), "S-014": all_courses(date(2026, 5, 1))})
    result = assess_dataset(registry, "x", owned("S-007", "S-014", "restricted"), on)
    assert result.status is status
    if status is Status.WARN:
        assert result.reasons == (
            "steward S-007 Lee Joon-ho: trained for restricted until 2027-01-10: renew before it lapses",
        )


def test_expiring_training_not_required_by_the_classification_does_not_warn(tmp_path: Path) -> None:
    courses = all_courses(date(2026, 5, 1)) | {"secure-handling": date(2025, 6, 1)}  # expires 2026-06-01
    registry = registry_with(tmp_path, {"S-007": courses, "S-014": courses})
    assert (
        assess_dataset(registry, "x", owned("S-007", "S-014", "internal"), date(2026, 5, 20)).status
        is Status.PASS
    )
    assert (
        assess_dataset(registry, "x", owned("S-007", "S-014", "restricted"), date(2026, 5, 20)).status
        is Status.WARN
    )


def test_committed_sample_shows_pass_with_one_trained_person_and_warn() -> None:
    registry = load_registry()
    day = date(2026, 11, 25)
    districts = assess_dataset(
        registry, "iot/bronze/districts", registry.ownership["iot/bronze/districts"], day
    )
    assert (districts.status, districts.trained_owners) == (Status.PASS, ("S-003",))  # S-025 lapsed
    report = "governance/report/steward_report"
    assert assess_dataset(registry, report, registry.ownership[report], day).status is Status.WARN  # S-030
    iot = [d for d in registry.ownership if d.startswith("iot/")]
    assert {assess_dataset(registry, d, registry.ownership[d], day).status for d in iot} == {Status.PASS}
