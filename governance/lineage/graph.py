"""The dataset graph the events describe: who feeds whom, who owns what, what its checks said.

A dataset's checks are its own: each Dagster asset check and dbt test on it is one, a run that reads
the dataset with its result as an input ``dataQualityAssertions`` facet (the only place the spec
defines that facet; assertions on outputs are not read). The Pandera rules a
contract check reports (one assertion per rule, ``params.contract`` naming the contract) are that
check's detail, counted apart as its rules: a dataset with 3 checks reads "3 checks", not "81".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import networkx as nx

from cityplatform.objectstore import parse_s3_uri
from governance.lineage.facets import COLUMN_LINEAGE_SOURCE, LEDGER_UNREADABLE, OWNERSHIP_SOURCE
from governance.lineage.naming import DatasetId, dataset_from_uri

TERMINAL_FAILURES = {"FAIL", "ABORT"}
PERSONAL = "personal"


@dataclass(frozen=True)
class Check:
    name: str
    success: bool
    column: str | None = None
    severity: str | None = None  # as configured: "warn" warns when it fails, anything else fails
    contract: str | None = None  # set on a Pandera rule: the contract whose check reported it

    @property
    def outcome(self) -> str:
        """``passed``, ``warn`` or ``failed``: the words Dagster's check states use."""
        if self.success:
            return "passed"
        return "warn" if self.severity == "warn" else "failed"


@dataclass(frozen=True)
class ColumnSource:
    """One upstream column an output column is derived from (the ``columnLineage`` facet)."""

    dataset: DatasetId
    field: str
    how: str  # the transformation's subtype (IDENTITY, TRANSFORMATION, AGGREGATION) or type


@dataclass
class DatasetState:
    """What the newest events say about one dataset."""

    id: DatasetId
    job: str | None = None  # the job (asset key) that writes it
    owners: list[tuple[str, str]] = field(default_factory=list)  # (role, owner)
    tags: dict[str, str] = field(default_factory=dict)
    pii_columns: list[str] = field(default_factory=list)
    pii_passed_on: list[str] = field(default_factory=list)  # of pii_columns: tagged by column lineage
    columns: list[tuple[str, str | None]] = field(default_factory=list)  # (name, type): schema facet
    column_lineage: dict[str, list[ColumnSource]] = field(default_factory=dict)  # output column -> inputs
    checks_by_job: dict[tuple[str, str], list[Check]] = field(default_factory=dict)  # newest, per job
    row_count: int | None = None
    last_state: str | None = None  # newest event of its job: START (running), COMPLETE, FAIL, ABORT
    last_event_at: str | None = None
    last_partition: str | None = None  # the Dagster partition that run wrote, if partitioned

    @property
    def checks(self) -> list[Check]:
        """The dataset's own checks (asset checks, dbt tests), newest result of each."""
        return [c for checks in self.checks_by_job.values() for c in checks if c.contract is None]

    @property
    def rules(self) -> list[Check]:
        """The contract rules its contract checks (or its writer) reported, one per Pandera rule."""
        return [c for checks in self.checks_by_job.values() for c in checks if c.contract is not None]

    @property
    def check_status(self) -> str:
        """``passed`` / ``warn`` / ``failed`` / ``no checks``: the dataset-level verdict a steward
        looks for, as the checks say it (a check of severity warn that fails warns)."""
        outcomes = {c.outcome for c in self.checks}
        return next((o for o in ("failed", "warn", "passed") if o in outcomes), "no checks")

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "failed"]

    @property
    def warned_checks(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "warn"]

    @property
    def personal(self) -> bool:
        """Personal data: classified ``personal``, or any column tagged PII."""
        return self.tags.get("classification") == PERSONAL or bool(self.pii_columns)

    @property
    def personal_note(self) -> str:
        """Which columns hold personal data, and which of them a dbt model passed on from upstream."""
        registry = [c for c in self.pii_columns if c not in self.pii_passed_on]
        parts = [f"PII columns {', '.join(registry)}"] if registry else []
        if self.pii_passed_on:
            parts.append(f"passed on from upstream: {', '.join(self.pii_passed_on)}")
        return "; ".join(parts)

    @property
    def ownership_note(self) -> str | None:
        """Said when the owners are the registry's only because the ownership ledger was unreadable."""
        source = self.tags.get(OWNERSHIP_SOURCE) or ""
        return source if source.startswith(LEDGER_UNREADABLE.split("{", 1)[0]) else None


def _dataset_id(dataset: dict[str, Any]) -> DatasetId:
    return DatasetId(dataset["namespace"], dataset["name"])


def _partition(event: dict[str, Any]) -> str | None:
    tags = event["run"].get("facets", {}).get("tags", {}).get("tags", [])
    return next((t["value"] for t in tags if t["key"] == "dagster.partition"), None)


def _checks(facet: dict[str, Any]) -> list[Check]:
    return [
        Check(
            a.get("name") or a["assertion"],
            a["success"],
            a.get("column"),
            a.get("severity"),
            (a.get("params") or {}).get("contract"),
        )
        for a in facet["assertions"]
    ]


def _column_lineage(facet: dict[str, Any]) -> dict[str, list[ColumnSource]]:
    return {
        column: [
            ColumnSource(
                DatasetId(source["namespace"], source["name"]),
                source["field"],
                ", ".join(
                    sorted({t.get("subtype") or t.get("type", "") for t in source.get("transformations", [])})
                )
                or "DIRECT",
            )
            for source in lineage.get("inputFields", [])
        ]
        for column, lineage in facet.get("fields", {}).items()
    }


def _apply_complete(state: DatasetState, dataset: dict[str, Any], event: dict[str, Any]) -> None:
    facets = dataset.get("facets", {})
    state.owners = [
        (o.get("type", "owner"), o["name"]) for o in facets.get("ownership", {}).get("owners", [])
    ]
    tags = facets.get("tags", {}).get("tags", [])
    state.tags = {t["key"]: t["value"] for t in tags if "field" not in t}
    pii = [t for t in tags if t.get("field") and t["key"] == "pii"]
    state.pii_columns = list(dict.fromkeys(t["field"] for t in pii))
    state.pii_passed_on = [t["field"] for t in pii if t.get("source") == COLUMN_LINEAGE_SOURCE]
    state.columns = [(f["name"], f.get("type")) for f in facets.get("schema", {}).get("fields", [])]
    state.column_lineage = _column_lineage(facets.get("columnLineage", {}))
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
            if tested and event.get("eventType") == "COMPLETE":  # a check or dbt test run that read it
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

    def personal_columns(self) -> dict[DatasetId, set[str]]:
        """Every column that holds personal data by what the events say: those the registry tags
        (``pii`` tags not derived by column lineage), and each column derived from one of them,
        transitively, unchanged or transformed rather than only aggregated (the rule of
        ``governance.lineage.dbt.passes_on_personal``). What the tags must cover; see
        :meth:`untagged_personal`."""
        found = {d: set(s.pii_columns) - set(s.pii_passed_on) for d, s in self.datasets.items()}
        changed = True
        while changed:  # to a fixed point: a column lineage may read a model derived later
            changed = False
            for dataset, state in self.datasets.items():
                for column, sources in state.column_lineage.items():
                    if column not in found[dataset] and any(
                        source.field in found.get(source.dataset, ())
                        and set(source.how.split(", ")) != {"AGGREGATION"}
                        for source in sources
                    ):
                        found[dataset].add(column)
                        changed = True
        return {dataset: columns for dataset, columns in found.items() if columns}

    def untagged_personal(self) -> list[tuple[DatasetId, str]]:
        """Personal columns (:meth:`personal_columns`) whose dataset's events do not tag them ``pii``."""
        return sorted(
            (dataset, column)
            for dataset, columns in self.personal_columns().items()
            for column in columns
            if column not in self.datasets[dataset].pii_columns
        )

    def resolve(self, ref: str) -> DatasetId:
        """An asset key (``iot/bronze/readings``, or its last part when only one asset has it), a
        dataset's ``s3://`` URI or ``<namespace>/<name>``, or an object in one: ``s3://bucket/key`` or
        ``bucket/key`` (see :meth:`holding`)."""
        by_job = [d for d, s in self.datasets.items() if s.job == ref]
        by_uri = [d for d in self.datasets if d.uri == ref.rstrip("/")]
        by_last_part = [d for d, s in self.datasets.items() if s.job and s.job.rsplit("/", 1)[-1] == ref]
        for found in (by_job, by_uri, by_last_part):
            if len(found) == 1:
                return found[0]
        uri = ref if ref.startswith("s3://") else f"s3://{ref}"  # bucket/key
        if "://" not in uri[5:] and (held := self.holding(uri if "/" in uri[5:] else f"{uri}/")):
            return held
        raise KeyError(
            f"no lineage recorded for {ref!r}: give an asset key, or an s3:// URI or bucket/key of an "
            "object in a materialised asset (city lineage report lists them)"
        )

    def holding(self, uri: str) -> DatasetId | None:
        """The dataset an object (or prefix) ``s3://bucket/key`` lies in: the one with the longest
        prefix of it. An object a publication exported from a mart (``s3://marts-traffic/<mart>/
        date=.../<mart>.parquet``) is that mart's: the published dataset reads a dataset whose asset
        key ends with the object's first folder."""
        bucket, key = parse_s3_uri(uri)
        if dataset_from_uri(uri) in self.datasets:
            return dataset_from_uri(uri)
        within = [
            d
            for d in self.datasets
            if d.namespace == f"s3://{bucket}"
            and (d.name == "/" or key == d.name or key.startswith(d.name.rstrip("/") + "/"))
        ]
        if not within:
            return None
        holder = max(within, key=lambda d: 0 if d.name == "/" else len(d.name))
        rest = key if holder.name == "/" else key[len(holder.name) :]
        folder = rest.strip("/").split("/", 1)[0]
        exported = [
            d
            for d in self.graph.predecessors(holder)
            if folder and (self.datasets[d].job or "").rsplit("/", 1)[-1] == folder
        ]
        return exported[0] if len(exported) == 1 else holder

    def upstream(self, dataset: DatasetId, hops: int | None = None) -> list[tuple[int, DatasetId]]:
        """Every dataset it is derived from (up to ``hops`` steps), with its distance (1 = read directly)."""
        reverse = self.graph.reverse(copy=False)
        return _by_distance(nx.single_source_shortest_path_length(reverse, dataset, cutoff=hops))

    def downstream(self, dataset: DatasetId, hops: int | None = None) -> list[tuple[int, DatasetId]]:
        """Every dataset derived from it (up to ``hops`` steps), with its distance (1 = reads it directly)."""
        return _by_distance(nx.single_source_shortest_path_length(self.graph, dataset, cutoff=hops))

    def neighbourhood(self, dataset: DatasetId, hops: int) -> nx.DiGraph:
        """The focused view of ``dataset``: what it is derived from and what derives from it, up to
        ``hops`` steps each way, with the dependencies among each side (one that bypasses it, from
        a dataset upstream straight to one downstream, is another dataset's story)."""
        upstream = {dataset, *(d for _, d in self.upstream(dataset, hops))}
        downstream = {dataset, *(d for _, d in self.downstream(dataset, hops))}
        view = nx.DiGraph()
        view.add_nodes_from(upstream | downstream)
        view.add_edges_from(
            (u, v) for side in (upstream, downstream) for u, v in self.graph.subgraph(side).edges
        )
        return view


def _by_distance(lengths: dict[DatasetId, int]) -> list[tuple[int, DatasetId]]:
    return sorted((distance, d) for d, distance in lengths.items() if distance > 0)
