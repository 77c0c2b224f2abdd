"""Run events for one job run (one asset materialisation, one dbt model): START, COMPLETE or FAIL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import JobFacet, RunFacet

from governance.lineage.naming import PRODUCER, job_namespace


@dataclass
class JobRun:
    """Who ran (job name, run id) and the facets every event of this run carries."""

    job_name: str
    run_id: str
    run_facets: dict[str, RunFacet] = field(default_factory=dict)
    job_facets: dict[str, JobFacet] = field(default_factory=dict)


class LineageEmitter:
    """Builds spec events with the client's classes and sends them through the client's transports."""

    def __init__(self, client: OpenLineageClient, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace or job_namespace()

    def emit(
        self,
        state: RunState,
        run: JobRun,
        inputs: Sequence[InputDataset] = (),
        outputs: Sequence[OutputDataset] = (),
        extra_run_facets: dict[str, RunFacet] | None = None,
    ) -> RunEvent:
        event = RunEvent(
            eventType=state,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run.run_id, facets={**run.run_facets, **(extra_run_facets or {})}),
            job=Job(namespace=self.namespace, name=run.job_name, facets=dict(run.job_facets)),
            inputs=list(inputs),
            outputs=list(outputs),
            producer=PRODUCER,
        )
        self.client.emit(event)
        return event
