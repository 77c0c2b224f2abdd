"""The dataset graph the events describe: who feeds whom, who owns what, what its checks said."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import networkx as nx

from governance.lineage.naming import DatasetId, dataset_from_uri

TERMINAL_FAILURES = {"FAIL", "ABORT"}


@dataclass
class Check:
    name: str
    success: bool
    column: str | None = None


@dataclass
class DatasetState:
    """What the newest events say about one dataset."""

    id: DatasetId
    job: str | None = None  # the job (asset key) that writes it
    owners: list[tuple[str, str]] = field(default_factory=list)  # (role, owner)
    tags: dict[str, str] = field(default_factory=dict)
    pii_columns: list[str] = field(default_factory=list)
    checks_by_job: dict[tuple[str, str], list[Check]] = field(default_factory=dict)  # newest, per job
    row_count: int | None = None
    last_state: str | None = None  # newest event of its job: START (running), COMPLETE, FAIL, ABORT
    last_event_at: str | None = None
    last_partition: str | None = None  # the Dagster partition that run wrote, if partitioned

    @property
    def checks(self) -> list[Check]:
        return [check for checks in self.checks_by_job.values() for check in checks]

    @property
    def check_status(self) -> str:
        """``passed`` / ``failed`` / ``no checks``: the dataset-level verdict a steward looks for."""
        if not self.checks:
            return "no checks"
        return "passed" if all(c.success for c in self.checks) else "failed"

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.success]


def _dataset_id(dataset: dict[str, Any]) -> DatasetId:
    return DatasetId(dataset["namespace"], dataset["name"])


def _partition(event: dict[str, Any]) -> str | None:
    tags = event["run"].get("facets", {}).get("tags", {}).get("tags", [])
    return next((t["value"] for t in tags if t["key"] == "dagster.partition"), None)


def _checks(facet: dict[str, Any]) -> list[Check]:
    return [
        Check(a.get("name") or a["assertion"], a["success"], a.get("column")) for a in facet["assertions"]
    ]


def _apply_complete(state: DatasetState, dataset: dict[str, Any], event: dict[str, Any]) -> None:
    facets = dataset.get("facets", {})
    state.owners = [
        (o.get("type", "owner"), o["name"]) for o in facets.get("ownership", {}).get("owners", [])
    ]
    tags = facets.get("tags", {}).get("tags", [])
    state.tags = {t["key"]: t["value"] for t in tags if "field" not in t}
    state.pii_columns = [t["field"] for t in tags if t.get("field") and t["key"] == "pii"]
    state.checks_by_job[(event["job"]["namespace"], event["job"]["name"])] = _checks(
        facets.get("dataQualityAssertions", {"assertions": []})
    )
    stats = dataset.get("outputFacets", {}).get("outputStatistics", {})
    state.row_count = stats.get("rowCount")


class LineageGraph:
    """Datasets as nodes, an edge from each input to each output of a job's newest event."""

    def __init__(self, events: Iterable[dict[str, Any]]) -> None:
        self.graph: nx.DiGraph = nx.DiGraph()
        self.datasets: dict[DatasetId, DatasetState] = {}
        for event in sorted(events, key=lambda e: datetime.fromisoformat(e["eventTime"])):
            self._add(event)

    def _state(self, dataset: DatasetId) -> DatasetState:
        if dataset not in self.datasets:
            self.datasets[dataset] = DatasetState(dataset)
            self.graph.add_node(dataset)
        return self.datasets[dataset]

    def _add(self, event: dict[str, Any]) -> None:
        job = (event["job"]["namespace"], event["job"]["name"])
        inputs = [_dataset_id(d) for d in event.get("inputs", [])]
        for dataset in event.get("inputs", []):
            state = self._state(_dataset_id(dataset))
            tested = dataset.get("inputFacets", {}).get("dataQualityAssertions")
            if tested and event.get("eventType") == "COMPLETE":  # a test job (dbt test) that read it
                state.checks_by_job[job] = _checks(tested)
        for dataset in event.get("outputs", []):
            state = self._state(_dataset_id(dataset))
            state.job = job[1]
            state.last_state = event.get("eventType")
            state.last_event_at = event["eventTime"]
            state.last_partition = _partition(event)
            if event.get("eventType") == "COMPLETE":
                _apply_complete(state, dataset, event)
                stale = [
                    u
                    for u in self.graph.predecessors(state.id)
                    if self.graph.edges[u, state.id]["job"] == job
                ]
                self.graph.remove_edges_from((u, state.id) for u in stale)
            for source in inputs:
                self.graph.add_edge(source, state.id, job=job)

    def resolve(self, ref: str) -> DatasetId:
        """An asset key (``iot/bronze/readings``), an ``s3://`` URI, or ``<namespace>/<name>``."""
        if ref.startswith("s3://"):
            wanted = dataset_from_uri(ref)
            if wanted in self.datasets:
                return wanted
        by_job = [d for d, s in self.datasets.items() if s.job == ref]
        if len(by_job) == 1:
            return by_job[0]
        by_uri = [d for d in self.datasets if d.uri == ref.rstrip("/")]
        if by_uri:
            return by_uri[0]
        raise KeyError(
            f"no lineage recorded for {ref!r}: give an asset key or s3:// URI of a materialised asset"
        )

    def upstream(self, dataset: DatasetId) -> list[tuple[int, DatasetId]]:
        """Every dataset it is derived from, with its distance (1 = read directly)."""
        return _by_distance(nx.single_source_shortest_path_length(self.graph.reverse(copy=False), dataset))

    def downstream(self, dataset: DatasetId) -> list[tuple[int, DatasetId]]:
        """Every dataset derived from it, with its distance (1 = reads it directly)."""
        return _by_distance(nx.single_source_shortest_path_length(self.graph, dataset))


def _by_distance(lengths: dict[DatasetId, int]) -> list[tuple[int, DatasetId]]:
    return sorted((distance, d) for d, distance in lengths.items() if distance > 0)
