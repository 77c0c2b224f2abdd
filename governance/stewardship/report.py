"""The steward report: one self-contained HTML page (plot embedded as PNG).

It renders the scorecards as stored (``DepartmentScorecard.to_json``), so the report shows exactly
what the scorecard assets wrote, whenever it is rebuilt.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on workers and servers
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from governance.pages import render_page

Card = Mapping[str, Any]
_STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#f9a825", "fail": "#c62828"}


def plot_png(cards: Sequence[Card]) -> bytes:
    """Left: datasets by steward_trained status; right: share with a trained owner and deputy."""
    names = [card["name"] for card in cards]
    fig, (status_ax, share_ax) = plt.subplots(1, 2, figsize=(11, 0.6 * len(cards) + 1.8), sharey=True)
    left = [0] * len(cards)
    for status, colour in _STATUS_COLOURS.items():
        counts = [card[f"steward_trained_{status}"] for card in cards]
        status_ax.barh(names, counts, left=left, color=colour, label=status)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    status_ax.set_xlabel("datasets by steward_trained status")
    status_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    status_ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.12), ncol=3, fontsize="small", frameon=False)
    shares = [100 * (card["share_owner_and_deputy_trained"] or 0) for card in cards]
    share_ax.barh(names, shares, color="#1565c0")
    share_ax.set_xlim(0, 100)
    share_ax.set_xlabel("% of datasets with a trained steward and deputy")
    for y, card in enumerate(cards):
        if card["single_trained_datasets"]:
            label = f"{card['single_trained_datasets']} on one trained person"
            share_ax.annotate(label, (2, y), va="center", fontsize="small", color="white", weight="bold")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _share(card: Card) -> str:
    share = card["share_owner_and_deputy_trained"]
    if share is None:
        return "n/a"
    return f"{share:.0%} ({card['owner_and_deputy_trained']} of {card['datasets']})"


def render_html(cards: Sequence[Card], ownership: str, generated_at: datetime) -> str:
    day = cards[0]["evaluated_on"] if cards else generated_at.date().isoformat()
    png = base64.b64encode(plot_png(cards)).decode()
    departments = (
        ["department", "datasets", "trained steward and deputy", "on one trained person",
         "pass / warn / fail", "trainings expiring ≤30 days", "failed checks open", "grants due for renewal"],
        [
            [c["name"], c["datasets"], _share(c), c["single_trained_datasets"],
             f"{c['steward_trained_pass']} / {c['steward_trained_warn']} / {c['steward_trained_fail']}",
             c["trainings_expiring_30d"], c["failed_checks_open"],
             c["grants_due_for_renewal"]]
            for c in cards
        ],
    )  # fmt: skip
    rows = [row for card in cards for row in card["rows"]]
    attention = (
        ["dataset", "status", "steward", "deputy", "trained", "failed checks", "why"],
        [
            [r["dataset"], r["status"], r["steward"], r["deputy"], ", ".join(r["trained_owners"]) or "nobody",
             ", ".join(r["failed_checks"]), r["reasons"]]
            for r in rows
            if r["status"] != "pass" or len(r["trained_owners"]) < 2 or r["failed_checks"]
        ],
    )  # fmt: skip
    expiring = (
        ["staff", "course", "expires on", "datasets that depend on it"],
        [
            [f"{e['staff']} {e['name']}", e["course"], e["expires_on"], ", ".join(e["datasets"])]
            for card in cards
            for e in card["expiring"]
        ],
    )
    columns = ("dataset", "department", "classification", "steward", "deputy", "status")
    every = (columns, [[r[column] for column in columns] for r in rows])
    return render_page(
        "steward_report.html.j2",
        day=day,
        generated=generated_at.isoformat(timespec="seconds"),
        ownership=ownership,
        png=png,
        sections={
            "Departments": departments,
            "Datasets needing attention": attention,
            "Trainings expiring within 30 days": expiring,
            "Every dataset": every,
        },
    )
