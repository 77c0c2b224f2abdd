"""``city simulate``: write synthetic city data into the landing bucket."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from rich.progress import track

from cityplatform.exits import EXIT_STORAGE, console, day_or_exit, err_console, exit_on, settings_or_exit
from cityplatform.layout import landing_iot_prefix
from cityplatform.objectstore import LANDING, ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.settings import EARLIEST_DAY

app = typer.Typer(help="Generate synthetic city data into s3://landing.", no_args_is_help=True)


@app.command()
def iot(
    day: str = typer.Option(..., help="First local day to simulate (YYYY-MM-DD)."),
    days: int = typer.Option(1, min=1, help="How many consecutive days."),
    sensors: int = typer.Option(200, min=10, help="IoT sensors in the city."),
    seed: int = typer.Option(42, help="Same seed, same city and readings."),
    fault_rate: float = typer.Option(0.01, min=0.0, max=0.5, help="Share of lines broken on purpose."),
    truth_dir: Path | None = typer.Option(None, help="Also write each day's ground truth JSON here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Simulate IoT readings (one JSON-lines object per sensor kind per 5 minutes) and the registry.

    The earliest day landed is kept under the platform's home: the daily partitions start there
    unless CITY_FIRST_DAY is set."""
    from citysim import build_city, write_iot_day
    from citysim.landing import record_landed_day

    settings = settings_or_exit()
    store = ObjectStore.from_settings(settings)
    city = build_city(seed=seed, sensors=sensors)
    # Any day a partition can hold; the last simulated day may be today (a day in progress)
    first = day_or_exit(day, "--day", between=(EARLIEST_DAY, settings.today() - timedelta(days=days - 1)))
    written = []
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        store.ping()
        for offset in track(range(days), description="writing days", console=err_console):
            the_day = first + timedelta(days=offset)
            truth = write_iot_day(store, city, the_day, tz=settings.zone, seed=seed, fault_rate=fault_rate)
            record_landed_day(settings.home_dir, the_day)
            if truth_dir is not None:
                truth_dir.mkdir(parents=True, exist_ok=True)
                (truth_dir / f"iot-{the_day}.json").write_text(truth.to_json())
            prefix = f"s3://{LANDING}/{landing_iot_prefix('{kind}', the_day)}"
            lines, faults = sum(truth.lines_written.values()), len(truth.faults)
            written.append({"day": the_day.isoformat(), "lines": lines, "faulty": faults, "prefix": prefix})
            if not as_json:
                console.print(f"{the_day}: {lines:,} lines ({faults:,} faulty) -> {prefix}", soft_wrap=True)
    if as_json:
        print_json(written)
