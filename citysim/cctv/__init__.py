"""Synthetic CCTV: rendered traffic-camera clips of a road and crosswalk, with ground truth.

``render_clip(spec, path)`` writes a real encoded video (MP4 or AVI) and returns the truth: every
object's and licence plate's box per frame and every true crossing of the scene's counting lines.
``upload_clip`` drops a clip and its truth into the landing bucket.
"""

from citysim.cctv.agents import CLASS_NAMES, PEDESTRIAN_CLASSES, VEHICLE_CLASSES, TrafficLevel
from citysim.cctv.clip import ClipSpec, ClipTruth, render_clip
from citysim.cctv.dataset import HELD_OUT_SEED_BASE, varied_spec
from citysim.cctv.landing import upload_clip
from citysim.cctv.render import Conditions
from citysim.cctv.scene import SCENES, CountingLine, SceneLayout

__all__ = [
    "CLASS_NAMES",
    "HELD_OUT_SEED_BASE",
    "PEDESTRIAN_CLASSES",
    "SCENES",
    "VEHICLE_CLASSES",
    "ClipSpec",
    "ClipTruth",
    "Conditions",
    "CountingLine",
    "SceneLayout",
    "TrafficLevel",
    "render_clip",
    "upload_clip",
    "varied_spec",
]
