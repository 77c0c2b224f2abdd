"""``city storage up|down|status``: the embedded S3 server on loopback."""

from __future__ import annotations

import typer

from cityplatform.embedded_s3 import EmbeddedS3, EmbeddedS3Error
from cityplatform.exits import EXIT_CONFIG, EXIT_STORAGE, console, err_console, exit_on, settings_or_exit
from cityplatform.objectstore import CORE_BUCKETS, ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.settings import SettingsError
from governance.registry.departments import mart_buckets

app = typer.Typer(help="Start, stop and inspect the embedded S3 server.", no_args_is_help=True)


@app.command()
def up(timeout: float = typer.Option(60.0, help="Seconds to wait for S3 to answer.")) -> None:
    """Start the S3 server (minio if on PATH, else SeaweedFS) and create the platform's buckets.

    Refused (exit 2, nothing started) with CITY_MODE=production: production uses the city's MinIO."""
    settings = settings_or_exit()
    with (
        exit_on(SettingsError, code=EXIT_CONFIG),
        exit_on(EmbeddedS3Error, ObjectStoreError, code=EXIT_STORAGE),
        err_console.status("starting the S3 server and creating the buckets"),
    ):
        server = EmbeddedS3.from_settings(settings)
        state = server.start(timeout=timeout)
        created = ObjectStore.from_settings(settings).ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
    console.print(
        f"S3 ({state.backend}) answering at {server.store().url}, pid {state.pid}, data in {server.data_dir}"
    )
    if created:
        console.print(f"created buckets: {', '.join(created)}")


@app.command()
def down() -> None:
    """Stop the embedded S3 server; the data stays in the data folder."""
    settings = settings_or_exit()
    with exit_on(EmbeddedS3Error, code=EXIT_STORAGE):
        stopped = EmbeddedS3.from_settings(settings).stop()
    console.print("stopped" if stopped else "not running")


@app.command()
def status(as_json: bool = JSON_OPTION) -> None:
    """Say whether S3 answers at the configured endpoint; exit 3 when it does not."""
    settings = settings_or_exit()
    store = ObjectStore.from_settings(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        store.ping()
    buckets = sorted(b.name for b in store.client.list_buckets())
    if as_json:
        print_json({"endpoint": store.url, "answering": True, "buckets": buckets})
        return
    console.print(f"S3 answering at {store.url}; buckets: {', '.join(buckets) or '(none)'}")
