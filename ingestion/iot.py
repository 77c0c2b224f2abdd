"""Landing JSON lines -> contract-valid bronze readings plus a quarantine row for every rejected line.

Every line that comes in leaves either as an accepted reading or as a quarantine row with its file,
line number, reason and the raw text, in exactly one day: a day's files include the next day's first
slots (late readings of the day lie there, see ``ingestion.landing``), whose lines of that next day
are counted as the other day's, so ``lines_in == accepted + quarantined + other_day`` always holds.

Speed comes from splitting the work: DuckDB parses every line once into typed columns (vectorised,
multi-threaded), and a polars regex flags the few lines DuckDB might have coerced leniently (a
boolean or ``"12.5"`` where a number belongs, a timestamp without offset). Only flagged or
incomplete lines go through the exact, slow per-line classifier. The Pandera contract then checks
every typed row, not a sample.

Hostile input is answered one line at a time, never by failing the day: a line too long or nested
too deep is judged before anything parses it, a repeated key is caught in the parse, a number
beyond its column's type is named, and a reading observed after its delivery slot (beyond the
clock skew allowed) is refused as an implausible time. A file whose key names no delivery slot of
its folder's day has every line quarantined: no line reaches bronze without its delivery check.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import pandera.errors
import polars as pl
import pyarrow as pa

from cityplatform.layout import landing_slot_start, partition_date
from cityplatform.sensor_kinds import MAX_LATENESS, SENSOR_KINDS, Measure, QuarantineReason, SensorKind
from governance.contracts.iot import validate_readings
from ingestion.landing import carries_previous_day

PARSE_BATCH_ROWS = 16_384
# The plausibility window of a reading's time around the start of the slot that delivered it: at
# most ``MAX_LATENESS`` before it (else late_arrival), at most this after it (the slot's own 5
# minutes plus 5 minutes of clock skew; else implausible_time).
MAX_AHEAD = timedelta(minutes=10)
# A reading is one flat object of about 150 characters; far longer or deeper lines are no reading,
# and are refused before a parser spends time (or recursion) on them. Quarantine keeps at most this
# much of any line's text.
MAX_LINE_CHARS = 8_192
MAX_JSON_DEPTH = 8
# Colons a line taking the fast parse has besides its keys' own: those of its observed_at, which
# must be written ``%Y-%m-%dT%H:%M:%S%:z`` (any other form is left to the exact classifier).
_FAST_TIMESTAMP = "%Y-%m-%dT%H:%M:%S%:z"
_FAST_TIMESTAMP_COLONS = 3
_INT64 = (-(2**63), 2**63 - 1)


class IngestReason(StrEnum):
    """Reasons beyond the simulator's fault catalogue (``QuarantineReason``): input no working
    sensor or gateway sends, answered line by line (or, for an object the platform cannot place,
    every line of it) instead of failing the day."""

    LINE_TOO_LONG = "line_too_long"
    TOO_DEEP = "too_deep"
    DUPLICATE_KEY = "duplicate_key"
    OUT_OF_TYPE_RANGE = "out_of_type_range"
    IMPLAUSIBLE_TIME = "implausible_time"
    UNKNOWN_SLOT = "unknown_slot"
    UNKNOWN_KIND = "unknown_kind"


# The first deliveries of readings an earlier chunk of the day held (``ingest_kind``'s ``seen``).
SEEN_SCHEMA = {
    "sensor_id": pl.String,
    "observed_at": pl.Datetime("us", "UTC"),
    "seen_file": pl.String,
    "seen_line": pl.Int64,
}

QUARANTINE_SCHEMA = {
    "kind": pl.String,
    "source_file": pl.String,
    "line_no": pl.Int64,
    "reason": pl.String,
    "detail": pl.String,
    "raw_line": pl.String,
}


@dataclass(frozen=True)
class LandingFile:
    """One landing object's key and bytes; its name says which 5-minute slot delivered it."""

    key: str
    data: bytes


@dataclass
class IngestResult:
    kind: str
    lines_in: int
    accepted: pl.DataFrame
    quarantined: pl.DataFrame
    other_day: int  # lines of the files read that belong to another day, which ingests them
    # The first delivery of each reading (sensor_id, observed_at) these files hold, where no earlier
    # chunk held it: its file and line (``seen_file``, ``seen_line``), for the chunks that follow.
    first_seen: pl.DataFrame | None = None

    @property
    def reasons(self) -> dict[str, int]:
        counts = self.quarantined.group_by("reason").len().sort("reason")
        return dict(zip(counts["reason"], counts["len"], strict=True))

    @property
    def reconciles(self) -> bool:
        return self.lines_in == self.accepted.height + self.quarantined.height + self.other_day


def contract_schema(kind: str) -> dict[str, pl.DataType]:
    """Column order and types of a kind's typed readings, as the Pandera contract checks them."""
    schema: dict[str, pl.DataType] = {
        "sensor_id": pl.String(),
        "kind": pl.String(),
        "observed_at": pl.Datetime("us", "UTC"),
    }
    return schema | {m.name: m.dtype() for m in SENSOR_KINDS[kind].measures}


def bronze_schema(kind: str) -> dict[str, pl.DataType]:
    """Column order and types of a kind's bronze parquet (contract columns + provenance)."""
    return contract_schema(kind) | {"source_file": pl.String(), "line_no": pl.Int64()}


def split_lines(files: Sequence[LandingFile]) -> pl.DataFrame:
    """One row per line: global row, file (position in ``files``), 1-based line number, text.

    A final newline ends a line; an empty file has no lines; CRLF ends a line as LF does (a raw
    CR cannot occur inside a JSON string), so no line keeps a trailing CR and every well-formed
    line of a Windows-written file still takes the fast parse. Files travel as a small integer so
    the per-row work never copies their names.
    """
    nonempty = [(i, f) for i, f in enumerate(files) if f.data]
    return (
        pl.DataFrame(
            {
                "file": [i for i, _ in nonempty],
                "line": [
                    f.data.decode("utf-8", errors="replace").replace("\r\n", "\n").removesuffix("\n")
                    for _, f in nonempty
                ],
            },
            schema={"file": pl.UInt32, "line": pl.String},
        )
        .with_columns(pl.col("line").str.split("\n"))
        .with_columns(line_no=pl.int_ranges(1, pl.col("line").list.len() + 1, dtype=pl.Int64))
        .explode("line", "line_no")
        .with_row_index("row")
    )


@cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process; each parse takes a cheap cursor of it.

    Results come out as Arrow string views, the layout polars keeps strings in, so handing the
    parsed text columns to polars copies no string.
    """
    return duckdb.connect(config={"produce_arrow_string_view": True})


def duckdb_types(spec: SensorKind, *, observed_at: str = "VARCHAR") -> dict[str, str]:
    """DuckDB type of each JSON field of a kind's line; ``observed_at`` stays text unless asked,
    because ingestion parses the timestamp itself (only explicit offsets are accepted)."""
    types = {"sensor_id": "VARCHAR", "kind": "VARCHAR", "observed_at": observed_at}
    return types | {m.name: "BIGINT" if m.dtype == pl.Int64 else "DOUBLE" for m in spec.measures}


def _suspect_pattern(spec: SensorKind) -> str:
    """Regex matching lines DuckDB must not parse alone: where its lenient transform could hide a
    wrong type, or where it would keep the first of a repeated key (more colons than a line of
    exactly the kind's keys has, see :func:`_parse_typed`). One regex, so one pass over the text."""

    def named(names: list[str]) -> str:
        return '"(?:' + "|".join(names) + ')"' + r"\s*:\s*"

    integers = [m.name for m in spec.measures if m.dtype == pl.Int64]
    parts = [
        named(["sensor_id", "kind", "observed_at"]) + r'[^"\s]',  # a string field that is not a string
        named([m.name for m in spec.measures]) + r"[^-\d\s]",  # a measure that is not a number
        rf"^(?:[^:]*:){{{len(spec.fields) + _FAST_TIMESTAMP_COLONS + 1}}}",  # a key too many
    ]
    if integers:
        parts.append(named(integers) + r"-?\d+[.eE]")  # an integer measure with a fraction or exponent
    return "|".join(parts)


def _parse_typed(lines: pl.DataFrame, spec: SensorKind) -> pl.DataFrame:
    """Typed columns for every line (nulls where absent or unparseable) plus a ``suspect`` flag.

    A line not shaped like a JSON object (``{"`` ... ``}``) is suspect, so the lines DuckDB parses
    are almost always valid JSON and are parsed once, with no separate validity pass. Should one
    of them be malformed inside after all, DuckDB refuses the whole query and the parse runs
    again with every line checked first: slower, never wrong.

    DuckDB keeps the first of a repeated key, so a line with more colons than its fields' keys and
    a fast-parse timestamp have is suspect: when every field then parses, the line holds exactly
    its fields' keys, once each (any extra key, repeated or nested, adds a colon). Over-long lines
    are suspect too, so that the exact classifier refuses them.
    """
    flagged = lines.with_columns(
        (
            ~pl.col("line").str.starts_with('{"')
            | ~pl.col("line").str.ends_with("}")
            | (pl.col("line").str.len_bytes() > MAX_LINE_CHARS)
            | pl.col("line").str.contains(_suspect_pattern(spec))
        ).alias("suspect")
    )
    con = _duckdb().cursor()
    try:
        # Record batches let DuckDB spread the JSON parsing over its threads.
        lines_table = flagged.select("line", "suspect").to_arrow()
        batches = lines_table.to_batches(max_chunksize=PARSE_BATCH_ROWS)
        con.register("lines", pa.Table.from_batches(batches, schema=lines_table.schema))
        # A plain projection keeps input order (DuckDB's preserve_insertion_order, on by default),
        # so the typed columns line up with ``flagged`` row for row.
        # Each line's kind is known, so it comes back as a flag rather than a string per row.
        measures = ", ".join(f"j.{m.name}" for m in spec.measures)
        types = json.dumps(duckdb_types(spec))

        def parse(parseable: str) -> pl.DataFrame:
            return con.execute(
                f"""
                select j.sensor_id, j.kind = '{spec.name}' as kind_matches, j.observed_at, {measures}
                from (
                    select case when {parseable} then from_json(line, '{types}') end as j
                    from lines
                )
                """
            ).pl()

        try:
            typed = parse("not suspect")
        except duckdb.InvalidInputException as exc:
            if "Malformed JSON" not in str(exc):
                raise
            typed = parse("not suspect and json_valid(line)")
    finally:
        con.close()
    if typed.height != flagged.height:
        raise RuntimeError(f"parser returned {typed.height} rows for {flagged.height} lines")
    # Only timestamps with an explicit offset parse here, and only the file's own kind is kept;
    # anything else is left null, so the line goes to the exact classifier (which accepts every
    # ISO 8601 form that carries an offset, and names the wrong kind).
    return flagged.hstack(typed).with_columns(
        kind=pl.when(pl.col("kind_matches")).then(pl.lit(spec.name)),
        observed_at=pl.col("observed_at")
        .str.to_datetime(_FAST_TIMESTAMP, time_unit="us", strict=False)
        .dt.convert_time_zone("UTC"),
    )


class _RepeatedKey(Exception):
    """A JSON object that names a key twice (json would silently keep the last)."""


class _HugeInteger(Exception):
    """An integer literal too long for Python to convert: beyond every column type."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``object_pairs_hook`` of the exact parse: the object, unless it repeats a key."""
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return record


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # over Python's digit limit (sys.get_int_max_str_digits)
        raise _HugeInteger(f"an integer of {len(text.lstrip('-'))} digits") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _nesting_depth(line: str) -> int:
    """How deep arrays and objects nest in ``line``, strings skipped: measured without parsing, so
    a hostile line cannot make the parser recurse. Only lines with many brackets are scanned."""
    if line.count("[") + line.count("{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _measure_value(value: object, measure: Measure) -> tuple[StrEnum, str] | int | float:
    """A measure's typed value, or why it has none: not a number of its type, or beyond the type."""
    integer = measure.dtype == pl.Int64
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and isinstance(value, float))
    ):
        return (
            QuarantineReason.WRONG_TYPE,
            f"{measure.name}={value!r} is not {'an integer' if integer else 'a number'}",
        )
    beyond = (
        IngestReason.OUT_OF_TYPE_RANGE,
        f"{measure.name}={value!r} is beyond the range of {measure.dtype.__name__}",
    )
    if integer:
        return value if _INT64[0] <= value <= _INT64[1] else beyond
    try:
        number = float(value)
    except OverflowError:  # an integer too big for a float
        return beyond
    return number if math.isfinite(number) else beyond


def _classify_line(line: str, spec: SensorKind) -> tuple[StrEnum, str] | dict[str, object]:
    """Exact verdict for one line: a (reason, detail) pair, or the typed record if it is fine."""
    if len(line) > MAX_LINE_CHARS:
        return (
            IngestReason.LINE_TOO_LONG,
            f"{len(line)} characters, limit {MAX_LINE_CHARS} (raw_line keeps the first {MAX_LINE_CHARS})",
        )
    if (depth := _nesting_depth(line)) > MAX_JSON_DEPTH:
        return IngestReason.TOO_DEEP, f"nested {depth} deep, limit {MAX_JSON_DEPTH}"
    try:
        record = json.loads(
            line, object_pairs_hook=_unique_keys, parse_int=_integer, parse_constant=_no_constant
        )
    except _RepeatedKey as exc:
        return IngestReason.DUPLICATE_KEY, f"key {exc.args[0]!r} appears more than once"
    except _HugeInteger as exc:
        return IngestReason.OUT_OF_TYPE_RANGE, f"{exc.args[0]}, beyond the range of every column type"
    except ValueError as exc:
        return QuarantineReason.MALFORMED_JSON, f"not JSON: {exc}"
    if not isinstance(record, dict):
        return QuarantineReason.MALFORMED_JSON, f"a JSON {type(record).__name__}, not an object"
    missing = [f for f in spec.fields if record.get(f) is None]
    if missing:
        return QuarantineReason.MISSING_FIELD, f"missing {', '.join(missing)}"
    for name in ("sensor_id", "kind", "observed_at"):
        if not isinstance(record[name], str):
            return QuarantineReason.WRONG_TYPE, f"{name}={record[name]!r} is not a string"
    try:
        observed = datetime.fromisoformat(record["observed_at"])
    except ValueError:
        return QuarantineReason.WRONG_TYPE, f"observed_at={record['observed_at']!r} is not ISO 8601"
    if observed.tzinfo is None:
        return QuarantineReason.WRONG_TYPE, f"observed_at={record['observed_at']!r} has no UTC offset"
    try:
        observed = observed.astimezone(UTC)
    except OverflowError:
        return (
            IngestReason.IMPLAUSIBLE_TIME,
            f"observed_at={record['observed_at']!r} lies outside years 1-9999 in UTC",
        )
    typed: dict[str, object] = {f: record[f] for f in spec.fields} | {"observed_at": observed}
    for measure in spec.measures:
        value = _measure_value(record[measure.name], measure)
        if isinstance(value, tuple):
            return value
        typed[measure.name] = value
    return typed


def _resolve_suspects(
    suspects: pl.DataFrame, spec: SensorKind, sources: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the exact classifier on the few suspect lines: (rescued typed rows, quarantine rows)."""
    rescued: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    for row, file, line_no, line in suspects.select("row", "file", "line_no", "line").iter_rows():
        verdict = _classify_line(line, spec)
        if isinstance(verdict, dict):
            rescued.append({"row": row, "file": file, "line_no": line_no} | verdict)
        else:
            reason, detail = verdict
            rejected.append(
                {
                    "kind": spec.name,
                    "source_file": sources[file],
                    "line_no": line_no,
                    "reason": reason.value,
                    "detail": detail,
                    "raw_line": line,
                }
            )
    rescued_schema = {"row": pl.UInt32(), "file": pl.UInt32(), "line_no": pl.Int64()} | contract_schema(
        spec.name
    )
    return (
        pl.DataFrame(rescued, schema=rescued_schema, orient="row"),
        pl.DataFrame(rejected, schema=QUARANTINE_SCHEMA, orient="row"),
    )


def _contract_verdicts(kind: str, typed: pl.DataFrame) -> pl.DataFrame:
    """Row by row with ``typed``: reason and detail of its first failed Pandera check, else nulls."""
    reason, detail = (pl.repeat(None, typed.height, dtype=pl.String, eager=True) for _ in range(2))
    try:
        validate_readings(kind, typed, unique_readings=False)
    except pandera.errors.SchemaErrors as exc:
        # The duplicate rule is left out here, so a failed column is either the sensor id (not
        # this kind's id pattern: an unknown sensor) or a measure out of its range.
        cases = (
            exc.failure_cases.filter(pl.col("index").is_not_null())
            .group_by("index")
            .agg(
                pl.when(pl.col("column") == "sensor_id")
                .then(pl.lit(QuarantineReason.UNKNOWN_SENSOR.value))
                .otherwise(pl.lit(QuarantineReason.OUT_OF_RANGE.value))
                .first()
                .alias("reason"),
                pl.format("{} {} failed for {}", "column", "check", "failure_case").first().alias("detail"),
            )
        )
        reason = reason.scatter(cases["index"], cases["reason"])
        detail = detail.scatter(cases["index"], cases["detail"])
    return pl.DataFrame({"reason": reason, "detail": detail})


def _file_calendar(
    files: Sequence[LandingFile], day: date, tz: ZoneInfo, max_lateness: timedelta
) -> pl.DataFrame:
    """Row i for ``files[i]``: its slot's start (UTC; for a local time the clocks repeat, the first
    instant and the latest), the day its lines belong to (its slot's, or its folder's or ``day`` for
    a name that places it in no slot), for one of a day's first slots the day before, whose late
    readings it may carry (``ingestion.landing.carries_previous_day``), and why the file cannot be
    placed (no slot in its name, or a slot outside its ``date=`` folder), else null."""
    starts: list[int | None] = []  # instants as integers: polars takes them far faster than datetimes
    latest: list[int | None] = []
    file_days: list[date] = []
    late_days: list[date | None] = []
    unplaced: list[str | None] = []
    for file in files:
        slot = landing_slot_start(file.key, tz)
        folder = partition_date(file.key)
        if slot is None or (folder is not None and slot.date() != folder):
            where = (
                "no delivery slot (<kind>_YYYYMMDDTHHMM.jsonl)"
                if slot is None
                else f"slot {slot:%Y-%m-%d %H:%M}"
            )
            starts.append(None)
            latest.append(None)
            file_days.append(folder or day)
            late_days.append(None)
            unplaced.append(f"the key names {where} of its folder date={folder}")
            continue
        # Slots start on a whole minute. A name in the hour the clocks repeat reads as either instant.
        starts.append(int(slot.timestamp()) * 1_000_000)
        latest.append(max(starts[-1], int(slot.replace(fold=1).timestamp()) * 1_000_000))
        file_days.append(slot.date())
        late_days.append(
            slot.date() - timedelta(days=1) if carries_previous_day(slot, max_lateness) else None
        )
        unplaced.append(None)
    utc = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        [
            pl.Series("slot_start", starts, pl.Int64).cast(utc),
            pl.Series("slot_latest", latest, pl.Int64).cast(utc),
            pl.Series("file_day", file_days, pl.Date),
            pl.Series("late_day", late_days, pl.Date),
            pl.Series("unplaced", unplaced, pl.String),
        ]
    )


def _quarantine_lines(
    lines: pl.DataFrame, sources: pl.Series, kind: str, reason: StrEnum, detail: pl.Expr
) -> pl.DataFrame:
    """Quarantine rows for every one of ``lines``, all for the same ``reason``."""
    return lines.select(
        kind=pl.lit(kind),
        source_file=pl.lit(sources).gather(pl.col("file")),
        line_no=pl.col("line_no"),
        reason=pl.lit(reason.value),
        detail=detail,
        raw_line=pl.col("line"),
    )


def _finished(quarantined: list[pl.DataFrame]) -> pl.DataFrame:
    """One kind's quarantine in delivery order, each line's text cut to ``MAX_LINE_CHARS``."""
    return (
        pl.concat(quarantined)
        .with_columns(pl.col("raw_line").str.slice(0, MAX_LINE_CHARS))
        .sort("source_file", "line_no")
    )


def quarantine_objects(
    folder: str, files: Sequence[LandingFile], reason: StrEnum, detail: str
) -> IngestResult:
    """Every line of objects the platform cannot ingest at all (a sensor-kind folder it does not
    know), quarantined with one ``reason``: nothing under landing is skipped unreported."""
    lines = split_lines(files)
    sources = pl.Series("source_file", [f.key for f in files], dtype=pl.String)
    quarantined = _finished([_quarantine_lines(lines, sources, folder, reason, pl.lit(detail))])
    return IngestResult(folder, lines.height, pl.DataFrame(), quarantined, other_day=0)


def ingest_kind(
    kind: str,
    files: Sequence[LandingFile],
    *,
    day: date,
    known_sensors: Iterable[str],
    tz: ZoneInfo,
    max_lateness: timedelta = MAX_LATENESS,
    max_ahead: timedelta = MAX_AHEAD,
    seen: pl.DataFrame | None = None,
) -> IngestResult:
    """Parse, type, contract-check, de-duplicate and split one kind's landing files of ``day``.

    A line belongs to the day of the slot that delivered it, except a reading of the day before in
    one of the day's first slots, which belongs to the day it was observed (its late delivery); a
    line whose time cannot be read stays with its slot's day. Both days' ingestions apply the same
    rule, so each line is accepted or quarantined in exactly one; here the other day's are counted.
    A reading observed more than ``max_lateness`` before its slot started is late, one observed
    more than ``max_ahead`` after it has an implausible time. The lines of a file that names no
    slot of its folder's day are quarantined unparsed: no delivery check could be made on them.
    """
    spec = SENSOR_KINDS[kind]
    contract = contract_schema(kind)
    sources = pl.Series("source_file", [f.key for f in files], dtype=pl.String)
    lines = split_lines(files)
    calendar = _file_calendar(files, day, tz, max_lateness)
    placed_lines, unplaced_rows = lines, []
    if calendar["unplaced"].is_not_null().any():
        unplaced = pl.lit(calendar["unplaced"]).gather(pl.col("file"))
        placed_lines = lines.filter(unplaced.is_null())
        unplaced_lines = lines.filter(unplaced.is_not_null())
        unplaced_rows.append(
            _quarantine_lines(unplaced_lines, sources, kind, IngestReason.UNKNOWN_SLOT, unplaced)
        )
    parsed = _parse_typed(placed_lines, spec)

    floats = [m.name for m in spec.measures if m.dtype == pl.Float64]
    exact = (
        pl.col("suspect")
        | ~pl.all_horizontal(pl.col(f).is_not_null() for f in spec.fields)
        | pl.any_horizontal(pl.lit(False), *(pl.col(m).is_infinite() for m in floats))  # 1e999 parses as inf
    )
    rescued, rejected_parse = _resolve_suspects(parsed.filter(exact), spec, sources)
    quarantine_parse = pl.concat([*unplaced_rows, rejected_parse])
    columns = ["row", "file", "line_no", *contract]
    typed = pl.concat([parsed.filter(~exact).select(columns).cast(contract), rescued.select(columns)])
    if rescued.height:  # rescued lines go back to their place in delivery order
        typed = typed.sort("row")

    # Which day each line belongs to: typed lines by when they were observed, the rest by their file.
    observed_day = pl.col("observed_at").dt.convert_time_zone(str(tz)).dt.date()
    late_day = pl.lit(calendar["late_day"]).gather(pl.col("file"))
    file_day = pl.lit(calendar["file_day"]).gather(pl.col("file"))
    owned = typed.filter(pl.when(observed_day == late_day).then(late_day).otherwise(file_day) == day)
    own_files = sources.filter(calendar["file_day"] == day).implode()
    owned_parse = quarantine_parse.filter(pl.col("source_file").is_in(own_files))
    other_day = typed.height - owned.height + quarantine_parse.height - owned_parse.height
    typed = owned.hstack(_contract_verdicts(kind, owned.select(list(contract))))

    registered = pl.col("sensor_id").is_in(pl.Series(list(known_sensors), dtype=pl.String).implode())
    late = pl.col("slot_start") - pl.col("observed_at") > max_lateness
    ahead = pl.col("observed_at") - pl.col("slot_latest") > max_ahead

    # Reason codes for every row (cheap, vectorised); detail text only for the few rejected rows.
    verdicts = typed.with_columns(
        slot_start=pl.lit(calendar["slot_start"]).gather(pl.col("file")),
        slot_latest=pl.lit(calendar["slot_latest"]).gather(pl.col("file")),
        first_row=pl.col("row").min().over("sensor_id", "observed_at"),
    )
    seen_at = pl.format("{}:{}", "seen_file", "seen_line")
    verdicts = verdicts.join(
        seen if seen is not None else pl.DataFrame(schema=SEEN_SCHEMA),
        on=["sensor_id", "observed_at"],
        how="left",
        maintain_order="left",
    ).with_columns(
        reason=pl.coalesce(
            pl.col("reason"),
            pl.when(~registered).then(pl.lit(QuarantineReason.UNKNOWN_SENSOR.value)),
            pl.when(late).then(pl.lit(QuarantineReason.LATE_ARRIVAL.value)),
            pl.when(ahead).then(pl.lit(IngestReason.IMPLAUSIBLE_TIME.value)),
            pl.when((pl.col("row") != pl.col("first_row")) | pl.col("seen_file").is_not_null()).then(
                pl.lit(QuarantineReason.DUPLICATE.value)
            ),
        )
    )
    source_file = pl.lit(sources).gather(pl.col("file")).alias("source_file")
    accepted = verdicts.filter(pl.col("reason").is_null()).select(*contract, source_file, "line_no")

    # Rows index ``lines`` directly (row i is line i), so the raw text and the first delivery of a
    # duplicate are gathered for the few rejected rows only.
    first_file = pl.lit(lines["file"]).gather(pl.col("first_row"))
    first_seen = pl.format(
        "{}:{}", pl.lit(sources).gather(first_file), pl.lit(lines["line_no"]).gather(pl.col("first_row"))
    )
    rejected = verdicts.filter(pl.col("reason").is_not_null()).select(
        pl.lit(kind).alias("kind"),
        source_file,
        "line_no",
        "reason",
        pl.coalesce(
            pl.col("detail"),
            pl.when(pl.col("reason") == QuarantineReason.UNKNOWN_SENSOR.value).then(
                pl.format("sensor {} is not in the registry", "sensor_id")
            ),
            pl.when(pl.col("reason") == QuarantineReason.LATE_ARRIVAL.value).then(
                pl.format(
                    "observed {} but delivered in slot {} ({} min late, limit {} min)",
                    "observed_at",
                    "slot_start",
                    (pl.col("slot_start") - pl.col("observed_at")).dt.total_minutes(),
                    pl.lit(_minutes(max_lateness)),
                )
            ),
            pl.when(pl.col("reason") == IngestReason.IMPLAUSIBLE_TIME.value).then(
                pl.format(
                    "observed_at {} is {} min after its delivery slot {} started (limit {} min)",
                    "observed_at",
                    (pl.col("observed_at") - pl.col("slot_latest")).dt.total_minutes(),
                    "slot_latest",
                    pl.lit(_minutes(max_ahead)),
                )
            ),
            pl.format("same sensor_id and observed_at as {}", pl.coalesce(seen_at, first_seen)),
        ).alias("detail"),
        pl.lit(lines["line"]).gather(pl.col("row")).alias("raw_line"),
    )
    first_seen_here = verdicts.filter(
        (pl.col("row") == pl.col("first_row")) & pl.col("seen_file").is_null()
    ).select("sensor_id", "observed_at", source_file.alias("seen_file"), pl.col("line_no").alias("seen_line"))
    quarantined = _finished([owned_parse, rejected])
    return IngestResult(kind, lines.height, accepted, quarantined, other_day, first_seen_here)


def _minutes(limit: timedelta) -> int:
    return int(limit.total_seconds() // 60)
