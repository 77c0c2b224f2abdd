"""From a landing key to its clip partition, and from a partition (a clip's name) to its landing object.

The partition key is the clip's :class:`~cityplatform.layout.ClipName`, ``<camera>_<YYYYMMDDTHHMMSS>``,
whatever its recorder called it: a name that a ``clip_names`` pattern of the camera registry accepts
(``cctv/cam-02/CH02_20261205_150000.mp4``) is read into the platform's name and found again from it.
"""

from __future__ import annotations

from cityplatform.layout import CCTV_PREFIX, ClipName, landing_clip_key
from cityplatform.objectstore import LANDING, ObjectInfo, ObjectStore
from vision_jobs.registry import CameraRegistry, load_registry

DAYLIGHT_HOURS = range(7, 19)  # local time; a blind camera shows no traffic in these hours


def camera_registry() -> CameraRegistry:
    """The registry that places clips: the one the vision job analyses them with."""
    return load_registry()


def find_clip(store: ObjectStore, name: ClipName, registry: CameraRegistry) -> ObjectInfo | None:
    """The landing object of a clip (any container), under the platform's name or its recorder's."""
    prefixes = [landing_clip_key(name, ".")]
    if (camera := registry.cameras.get(name.camera_id)) is not None:
        prefixes += [f"{CCTV_PREFIX}{name.camera_id}/{p.format(name.start)}." for p in camera.clip_names]
    return next((obj for prefix in prefixes for obj in store.list_objects(LANDING, prefix)), None)
