"""``city vision run|train|evaluate``: the CCTV vision job's commands (defined in vision_jobs.cli)."""

from __future__ import annotations

from vision_jobs.cli import app

__all__ = ["app"]
