"""``python -m vision_jobs``: the job's command line without Dagster."""

from vision_jobs.cli import app

app()
