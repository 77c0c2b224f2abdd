"""The key layout and the clip name: each key says what it was built from, and reads back to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityplatform.layout import (
    BadClipName,
    ClipName,
    bronze_cctv_prefix,
    bronze_clip_folder,
    bronze_clip_key,
    clip_publication_key,
    generation_of,
    landing_cctv_prefix,
    landing_clip_key,
    landing_clip_truth_key,
    new_generation,
    partition_date,
    retention_record_key,
    scorecard_key,
    scorecards_prefix,
    steward_report_html_key,
    steward_report_rows_key,
    unplaced_clip_key,
)

ZONES = [ZoneInfo("Asia/Seoul"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
# Around Berlin's spring change (2026-03-29, 01:00 UTC), a minute before and after midnight UTC.
INSTANTS = [
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 23, 59, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 0, 1, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize("instant", INSTANTS, ids=lambda i: i.isoformat())
def test_a_clip_name_round_trips_to_the_same_camera_and_instant(tz: ZoneInfo, instant: datetime) -> None:
    name = ClipName("cam-01", instant.astimezone(tz))
    again = ClipName.parse(name.format(), tz)
    assert again.camera_id == "cam-01"
    assert again.start == instant
    assert again.format() == name.format()


def test_in_the_repeated_autumn_hour_a_name_reads_as_the_first_of_its_two_instants() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    first, second = (datetime(2026, 10, 25, h, 30, tzinfo=UTC) for h in (0, 1))  # both 02:30 in Berlin
    names = {ClipName("cam-01", i.astimezone(berlin)).format() for i in (first, second)}
    assert names == {"cam-01_20261025T023000"}
    assert ClipName.parse(names.pop(), berlin).start.astimezone(UTC) == first


def test_the_name_is_written_in_local_time_of_its_start() -> None:
    instant = datetime(2026, 3, 16, 1, 15, tzinfo=UTC)
    seoul, berlin = (ClipName("cam-01", instant.astimezone(tz)).format() for tz in ZONES[:2])
    assert (seoul, berlin) == ("cam-01_20260316T101500", "cam-01_20260316T021500")


@pytest.mark.parametrize(
    "name",
    [
        "cam-01",
        "cam-01_20260316T1015",
        "Cam-01_20260316T101500",
        "cam-01_20261316T101500",
        "_20260316T101500",
    ],
)
def test_names_that_do_not_say_camera_and_start_are_refused(name: str) -> None:
    with pytest.raises(BadClipName):
        ClipName.parse(name, UTC)


def test_a_name_that_could_not_be_read_back_is_never_written() -> None:
    with pytest.raises(BadClipName, match="camera id"):
        ClipName("Cam 1", datetime(2026, 3, 16, tzinfo=UTC))
    with pytest.raises(BadClipName, match="no time zone"):
        ClipName("cam-01", datetime(2026, 3, 16))


def test_clip_keys_put_the_local_date_first_and_keep_the_name() -> None:
    name = ClipName("cam-02", datetime(2026, 3, 16, 23, 55, tzinfo=ZoneInfo("Europe/Berlin")))
    day = date(2026, 3, 16)
    landing = landing_clip_key(name, ".mp4")
    assert landing == "cctv/cam-02/date=2026-03-16/cam-02_20260316T235500.mp4"
    assert landing.startswith(landing_cctv_prefix("cam-02", day))
    assert landing_clip_truth_key(name, ".truth.json") == (
        "cctv-truth/cam-02/date=2026-03-16/cam-02_20260316T235500.truth.json"
    )
    generation = new_generation()
    counts = bronze_clip_key("counts", name, generation)
    assert counts == (
        "cctv/counts/date=2026-03-16/camera=cam-02/hour=23/cam-02_20260316T235500/"
        f"gen={generation}/cam-02_20260316T235500.parquet"
    )
    assert counts.startswith(bronze_clip_folder("counts", name))
    assert counts.startswith(bronze_cctv_prefix("counts", day))
    assert generation_of(counts) == generation
    assert bronze_clip_key("counts", name, generation, camera_id="cam-07").split("/")[3] == "camera=cam-07"
    evidence = bronze_clip_key("evidence", name, generation, "frame-000001.jpg")
    assert evidence.endswith(f"T235500/gen={generation}/frame-000001.jpg")
    publication = clip_publication_key(name, generation)
    assert publication == (
        f"cctv/publications/date=2026-03-16/camera=cam-02/hour=23/cam-02_20260316T235500/gen={generation}.json"
    )
    assert (generation_of(publication), partition_date(publication)) == (generation, day)
    for key in (landing, counts):
        assert partition_date(key) == day
        assert ClipName.parse(key.rsplit("/", 1)[1].split(".")[0], name.start.tzinfo) == name
    assert unplaced_clip_key("cctv/cam-02/clip.mp4") == "cctv/unplaced/cam-02/clip.mp4"
    assert unplaced_clip_key("cctv/cam-03/clip.mp4") != unplaced_clip_key("cctv/cam-02/clip.mp4")


def test_governance_keys_sort_by_day_under_their_prefixes() -> None:
    days = [date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]
    cards = [scorecard_key("traffic", day) for day in days]
    assert cards == sorted(cards) and all(k.startswith(scorecards_prefix("traffic")) for k in cards)
    assert not scorecard_key("traffic-2", days[0]).startswith(scorecards_prefix("traffic"))
    assert steward_report_rows_key(days[0]) == "reports/2026-12-31/datasets.parquet"
    assert steward_report_html_key(days[0]) == "reports/2026-12-31/steward-report.html"
    record = retention_record_key(days[1], "run-1")
    assert record == "retention/deletions/date=2027-01-01/run-1.parquet"
    assert partition_date(record) == days[1]
    assert partition_date(retention_record_key(days[1] + timedelta(days=1), "r")) == days[2]
