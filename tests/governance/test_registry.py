"""The governance registry loads, and every kind of bad entry fails with file, entry and field named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cityplatform.yamlfiles import RegistryError
from governance.registry.registry import load_registry
from governance.registry.training import add_months
from governance.stewardship.training import CourseState, course_status
from tests.governance.registry_files import copy_registry

COMMITTED_DAY = date(2026, 11, 25)  # the day the sample training records were written for


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    return copy_registry(tmp_path / "registry")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def load_error(directory: Path) -> str:
    with pytest.raises(RegistryError) as error:
        load_registry(directory)
    return str(error.value)


def test_committed_registry_loads_with_every_level_and_derived_expiry() -> None:
    registry = load_registry()
    assert list(registry.levels) == ["public", "internal", "restricted", "personal"]
    assert registry.required_courses("personal")[-1] == "personal-data-cctv"
    assert set(registry.required_courses("internal")) < set(registry.required_courses("restricted"))
    record = next(r for r in registry.records_of("S-030") if r.course == "stewardship-fundamentals")
    assert record.expires_on == add_months(
        record.completed_on, registry.courses[record.course].validity_months
    )


def test_sample_training_shows_current_expiring_and_expired_people() -> None:
    registry = load_registry()

    def state(staff: str) -> CourseState:
        return course_status(registry, staff, "stewardship-fundamentals", COMMITTED_DAY).state

    assert state("S-025") is CourseState.EXPIRED
    assert state("S-030") is CourseState.EXPIRING
    current = [s for s in registry.staff if state(s) is CourseState.CURRENT]
    assert len(current) == len(registry.staff) - 2


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 3), 14) == date(2027, 1, 3)


def test_unknown_staff_id_in_ownership(registry_dir: Path) -> None:
    edit(registry_dir / "ownership.yaml", "{steward: S-022, deputy: S-011", "{steward: S-099, deputy: S-011")
    message = load_error(registry_dir)
    assert (
        "ownership.yaml: datasets['iot/bronze/river_gauges'] field 'steward': unknown staff id S-099"
        in message
    )


def test_unknown_staff_id_in_training(registry_dir: Path) -> None:
    append(
        registry_dir / "training.yaml", "  - {staff: S-404, course: data-quality, completed_on: 2026-01-05}\n"
    )
    message = load_error(registry_dir)
    assert "training.yaml: completions[" in message
    assert "staff='S-404'" in message and "field 'staff': unknown staff id S-404" in message


def test_duplicate_staff_id(registry_dir: Path) -> None:
    append(
        registry_dir / "staff.yaml",
        "  - {id: S-007, name: Lee Two, email: two@city.example.kr, department: traffic, role: x}\n",
    )
    message = load_error(registry_dir)
    assert "staff.yaml: staff[13] (id='S-007') field 'id': duplicate staff id S-007" in message


def test_who_may_approve_handovers_comes_from_the_staff_roles() -> None:
    registry = load_registry()
    assert [member.id for member in registry.approvers("disaster_management")] == ["S-043", "S-003", "S-030"]
    assert registry.staff["S-025"].governance_role is None  # a policy analyst approves nothing


def test_an_unknown_governance_role(registry_dir: Path) -> None:
    edit(registry_dir / "staff.yaml", "governance_role: department_head", "governance_role: boss")
    message = load_error(registry_dir)
    assert message.startswith(
        f"{registry_dir / 'staff.yaml'}: staff[8] (id='S-040') field 'governance_role': "
    )
    assert "'department_head' or 'governance_officer'" in message and "\n" not in message


def test_two_active_heads_of_one_department(registry_dir: Path) -> None:
    append(
        registry_dir / "staff.yaml",
        "  - {id: S-045, name: Two Heads, email: two@city.example.kr, department: traffic, role: director,"
        " governance_role: department_head}\n",
    )
    assert load_error(registry_dir) == (
        f"{registry_dir / 'staff.yaml'}: staff[13] (id='S-045') field 'governance_role': traffic already has "
        "an active head, S-040; set the former head's active: false"
    )
    edit(
        registry_dir / "staff.yaml",
        "governance_role: department_head}",
        "governance_role: department_head, active: false}",
    )
    assert load_registry(registry_dir).approvers("traffic")[0].id == "S-040"


def test_duplicate_dataset_key_is_not_silently_overwritten(registry_dir: Path) -> None:
    append(
        registry_dir / "ownership.yaml",
        "  iot/raw/readings:\n    {steward: S-011, deputy: S-014, department: traffic, "
        "classification: internal, retention_days: 30}\n",
    )
    message = load_error(registry_dir)
    assert (
        "ownership.yaml: not valid YAML at line" in message and "duplicate key 'iot/raw/readings'" in message
    )
    assert "\n" not in message


def test_course_not_in_the_catalogue(registry_dir: Path) -> None:
    append(
        registry_dir / "training.yaml", "  - {staff: S-014, course: drone-flying, completed_on: 2026-01-05}\n"
    )
    message = load_error(registry_dir)
    assert "training.yaml: completions[" in message
    assert "field 'course': course 'drone-flying' is not in the training catalogue" in message


def test_classification_requiring_an_unknown_course(registry_dir: Path) -> None:
    edit(registry_dir / "classifications.yaml", "personal-data-cctv]", "cctv-basics]")
    message = load_error(registry_dir)
    assert "classifications.yaml: classifications[3] (level='personal') field 'requires.3'" in message
    assert "'cctv-basics' is not in the training catalogue" in message


def test_a_level_requiring_less_than_the_one_below(registry_dir: Path) -> None:
    edit(
        registry_dir / "classifications.yaml",
        "requires: [stewardship-fundamentals, data-quality, secure-handling]",
        "requires: [stewardship-fundamentals, secure-handling]",
    )
    message = load_error(registry_dir)
    assert (
        "(level='restricted') field 'requires': restricted must require everything internal does" in message
    )
    assert "missing data-quality" in message


def test_bad_date(registry_dir: Path) -> None:
    edit(registry_dir / "training.yaml", "completed_on: 2026-03-02}", "completed_on: 2026-02-30}")
    message = load_error(registry_dir)
    assert "training.yaml: completions[8] (staff='S-011') field 'completed_on'" in message
    assert "date" in message


def test_dataset_with_no_owner(registry_dir: Path) -> None:
    append(registry_dir / "ownership.yaml", "  iot/bronze/new_thing:\n")
    assert "datasets['iot/bronze/new_thing']: no owner" in load_error(registry_dir)


def test_dataset_with_no_deputy(registry_dir: Path) -> None:
    append(
        registry_dir / "ownership.yaml",
        "  iot/bronze/new_thing:\n    {steward: S-011, department: environment, "
        "classification: public, retention_days: 30}\n",
    )
    message = load_error(registry_dir)
    assert "datasets['iot/bronze/new_thing'] field 'deputy': Field required" in message


def test_unknown_classification(registry_dir: Path) -> None:
    edit(
        registry_dir / "ownership.yaml",
        "classification: public, retention_days: 3650}",
        "classification: secret, retention_days: 3650}",
    )
    message = load_error(registry_dir)
    assert "datasets['iot/bronze/sensor_registry'] field 'classification'" in message


def test_unknown_department_of_staff(registry_dir: Path) -> None:
    edit(registry_dir / "staff.yaml", "department: environment,", "department: parks,")
    message = load_error(registry_dir)
    assert "staff.yaml: staff[2] (id='S-011') field 'department': unknown department parks" in message


def test_duplicate_completion(registry_dir: Path) -> None:
    append(
        registry_dir / "training.yaml", "  - {staff: S-011, course: data-quality, completed_on: 2026-03-16}\n"
    )
    assert "duplicate completion of data-quality on 2026-03-16" in load_error(registry_dir)


def test_missing_file(registry_dir: Path) -> None:
    (registry_dir / "courses.yaml").unlink()
    assert "courses.yaml: file is missing" in load_error(registry_dir)


def test_a_baseline_owner_who_left_is_refused_until_a_successor_is_named(registry_dir: Path) -> None:
    edit(
        registry_dir / "staff.yaml",
        "role: hydrology analyst, active: true",
        "role: hydrology analyst, active: false",
    )
    assert load_error(registry_dir) == (
        f"{registry_dir / 'ownership.yaml'}: datasets['iot/bronze/river_gauges'] field 'steward': "
        "S-022 Kang Tae-yang is not active (staff.yaml): name an active steward here"
    )
    # the same change names successors wherever S-022 owned; the person stays on the staff list
    owned = (registry_dir / "ownership.yaml").read_text()
    (registry_dir / "ownership.yaml").write_text(
        owned.replace("{steward: S-022, deputy: S-011", "{steward: S-011, deputy: S-014")
        .replace("{steward: S-022, deputy: S-003", "{steward: S-025, deputy: S-003")
        .replace("deputy: S-022", "deputy: S-003")
    )
    registry = load_registry(registry_dir)
    assert registry.ownership["iot/bronze/river_gauges"].steward == "S-011"
    assert registry.staff["S-022"].active is False


def test_environment_variable_points_the_platform_at_another_registry(
    registry_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(registry_dir / "ownership.yaml", "{steward: S-022, deputy: S-011", "{steward: S-011, deputy: S-022")
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry_dir))
    assert load_registry().ownership["iot/bronze/river_gauges"].steward == "S-011"
    monkeypatch.delenv("CITY_GOVERNANCE_REGISTRY")
    assert load_registry().ownership["iot/bronze/river_gauges"].steward == "S-022"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "department: traffic, buckets",
            "department: parks, buckets",
            "field 'department': unknown department parks",
        ),
        ("buckets: [marts-traffic]", "buckets: [bronze]", "field 'buckets': not a marts bucket: bronze"),
        ("buckets: [marts-traffic]", "buckets: []", "field 'buckets'"),
        (
            "approved_by: S-003, expires_on: 2027-12-31}",
            "approved_by: S-999, expires_on: 2027-12-31}",
            "unknown staff id S-999",
        ),
        ("expires_on: 2027-12-31}", "expires_on: 2027-02-30}", "field 'expires_on'"),
    ],
)
def test_bad_grant(registry_dir: Path, old: str, new: str, expected: str) -> None:
    edit(registry_dir / "grants.yaml", old, new)
    message = load_error(registry_dir)
    assert "grants.yaml: grants[0] (department=" in message and expected in message, message


def test_cctv_detections_are_personal_data_to_the_column() -> None:
    registry = load_registry()
    detections = registry.ownership["cctv/derived/detections"]
    assert detections.classification == "personal"
    assert {"track_id", "ts", "camera_id", "x1", "y1", "x2", "y2"} <= set(detections.personal_columns)
    assert "class" not in detections.personal_columns  # a label alone singles nobody out
    limit = registry.levels["personal"].max_retention_days
    assert limit is not None and detections.retention_days <= limit
    assert registry.ownership["cctv/derived/counts"].classification != "personal"  # aggregated per minute


def test_personal_data_kept_longer_than_its_level_allows(registry_dir: Path) -> None:
    edit(
        registry_dir / "ownership.yaml",
        "classification: personal\n    retention_days: 30",
        "classification: personal\n    retention_days: 90",
    )
    message = load_error(registry_dir)
    assert "datasets['cctv/derived/detections'] field 'retention_days': 90 days" in message
    assert "personal data is kept at most 30 days" in message


def test_personal_columns_in_a_dataset_not_classified_personal(registry_dir: Path) -> None:
    edit(
        registry_dir / "ownership.yaml",
        "classification: personal\n    retention_days: 30",
        "classification: restricted\n    retention_days: 30",
    )
    assert "a dataset with personal columns is classified personal" in load_error(registry_dir)
