"""Department reports: one self-contained HTML page per department and day, the charts a department
head looks at, drawn from the department's marts.

Pure: frames in, HTML out. Each chart says the date of the data it draws and the status of the checks
of the marts behind it, as evaluated in the run that published them (``CheckStatus``); where that
run evaluated none, the page says "not checked", never "pass". Missing values show as missing: grey
hatched cells and gaps in lines, "missing" in tables, never a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo

import polars as pl

from governance.department_report import disaster, environment, planning, safety, traffic
from governance.department_report.charts import HISTORY_DAYS, MISSING, MISSING_COLOUR, Chart
from governance.pages import render_page
from governance.registry.departments import Department

NOT_CHECKED = "not checked"
_SECTIONS: dict[str, ModuleType] = {
    "traffic": traffic,
    "environment": environment,
    "disaster_management": disaster,
    "public_safety": safety,
    "policy_planning": planning,
}
# Department id -> the marts its report draws from (each with a ``local_date`` column).
REPORT_MARTS: dict[str, tuple[str, ...]] = {
    department: module.MARTS for department, module in _SECTIONS.items()
}
ChartsOf = Callable[[Mapping[str, pl.DataFrame], date, ZoneInfo], list[Chart]]


@dataclass(frozen=True)
class CheckStatus:
    """The outcomes (``pass``, ``warn`` or ``fail``) of one mart's checks in one run, by check name."""

    outcomes: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The worst outcome; ``not checked`` when no check of the mart was evaluated."""
        if not self.outcomes:
            return NOT_CHECKED
        found = set(self.outcomes.values())
        return next(status for status in ("fail", "warn", "pass") if status in found)

    @property
    def detail(self) -> str:
        if not self.outcomes:
            return "no check of this mart was evaluated in the publishing run"
        others = sorted(name for name, outcome in self.outcomes.items() if outcome != "pass")
        count = len(self.outcomes)
        total = f"{count} check{'s' if count != 1 else ''}"
        if not others:
            return f"{count} of {total} passed"
        return f"{len(others)} of {total} did not pass: {', '.join(others)}"


def history_start(day: date) -> date:
    """The first day a report of ``day`` draws from: read the marts from here to ``day``."""
    return day - timedelta(days=HISTORY_DAYS - 1)


def render_report(
    department: Department,
    day: date,
    frames: Mapping[str, pl.DataFrame],
    checks: Mapping[str, CheckStatus],
    *,
    zone: ZoneInfo,
    generated_at: datetime,
    run_id: str,
) -> bytes:
    """The page of ``department`` for ``day``: ``frames`` holds each of ``REPORT_MARTS[department.id]``
    (rows of ``history_start(day)`` to ``day``), ``checks`` each mart's status in run ``run_id``."""
    charts: ChartsOf = _SECTIONS[department.id].charts
    sections = [
        {"chart": chart, "checks": [(mart, checks.get(mart, CheckStatus())) for mart in chart.marts]}
        for chart in charts(frames, day, zone)
    ]
    page = render_page(
        "department_report.html.j2",
        department=department.name,
        bucket=department.bucket,
        day=day.isoformat(),
        generated=generated_at.isoformat(timespec="seconds"),
        run_id=run_id,
        sections=sections,
        missing=MISSING,
        missing_colour=MISSING_COLOUR,
    )
    return page.encode()
