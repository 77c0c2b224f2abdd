"""A day ingested chunk by chunk gives exactly what one pass over the whole day gives: the same
bronze rows in the same order, the same quarantine rows with the same reasons and details (the
duplicates of a reading delivered in an earlier chunk included), the same counts; in process."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from citysim import build_city, build_iot_day
from ingestion.day import ingest_kind_chunks
from ingestion.iot import LandingFile, bronze_schema, ingest_kind
from ingestion.landing import ingested_days

DAY = date(2026, 11, 24)
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def day_files() -> tuple[dict[str, list[LandingFile]], list[str]]:
    """One kind's landing files of DAY, the next day's first slots (late readings) included, as the
    manifest lists them; a high fault rate, so duplicates across files abound."""
    city = build_city(seed=7, sensors=40)
    objects = {}
    for day in (DAY, DAY + timedelta(days=1)):
        objects |= build_iot_day(city, day, tz=SEOUL, seed=3, fault_rate=0.05).objects
    files: dict[str, list[LandingFile]] = {}
    for key in sorted(objects):
        if DAY in ingested_days(key, SEOUL):
            files.setdefault(key.split("/")[1], []).append(LandingFile(key, objects[key]))
    return files, [s.sensor_id for s in city.sensors]


@pytest.mark.parametrize("kind", ["air_quality", "traffic"])
@pytest.mark.parametrize("per_chunk", [1, 7])
def test_chunked_ingestion_equals_one_pass(day_files, kind: str, per_chunk: int) -> None:
    files, known = day_files
    whole = ingest_kind(kind, files[kind], day=DAY, known_sensors=known, tz=SEOUL)
    chunks = [files[kind][i : i + per_chunk] for i in range(0, len(files[kind]), per_chunk)]
    written: list[pl.DataFrame] = []
    total = ingest_kind_chunks(kind, chunks, written.append, day=DAY, known_sensors=known, tz=SEOUL)

    assert pl.concat(written).equals(whole.accepted.select(list(bronze_schema(kind))))
    assert total.quarantined.equals(whole.quarantined)
    assert (total.lines_in, total.accepted_rows, total.other_day) == (
        whole.lines_in,
        whole.accepted.height,
        whole.other_day,
    )
    assert total.reconciles
    # Duplicates of a reading first delivered in another file (so, with one file a chunk, in an
    # earlier chunk) are among them, naming that first delivery.
    duplicates = total.quarantined.filter(pl.col("reason") == "duplicate")
    across = duplicates.filter(~pl.col("detail").str.contains(pl.col("source_file"), literal=True))
    assert across.height > 0
    # What is carried from chunk to chunk is about the lateness limit's worth, not the day.
    assert total.seen.height < whole.accepted.height / 10
