"""The camera registry: the shipped file loads, and each kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cityplatform.yamlfiles import RegistryError
from citysim.cctv import SCENES
from vision_jobs.registry import DEFAULT_REGISTRY, load_registry

GOOD_CAMERA = {
    "camera_id": "cam-09",
    "segment_id": "RS009",
    "district_id": "D01",
    "frame_stride": 3,
    "lines": [
        {
            "line_id": "road",
            "start": [0.5, 0.1],
            "end": [0.5, 0.9],
            "directions": {"eastbound": [1, 0], "westbound": [-1, 0]},
        }
    ],
    "zones": [{"zone_id": "box", "polygon": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3]]}],
}


def rounded(point: tuple[float, float]) -> tuple[float, float]:
    return (round(point[0], 4), round(point[1], 4))


def write(tmp_path: Path, cameras: list[dict]) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(yaml.safe_dump({"cameras": cameras}))
    return path


def test_shipped_registry_states_the_simulated_cameras_lines() -> None:
    """The simulator's truth and the job must count the same lines, or evaluation compares nothing."""
    registry = load_registry(DEFAULT_REGISTRY)
    for camera_id, scene in SCENES.items():
        camera = registry.get(camera_id)
        registered = {
            (line.line_id, *rounded(line.start), *rounded(line.end), *sorted(line.directions))
            for line in camera.lines
        }
        simulated = {
            (line.line_id, *rounded(line.start), *rounded(line.end), *sorted(line.directions))
            for line in scene.lines
        }
        assert registered == simulated


def test_a_good_entry_loads_with_its_fields(tmp_path: Path) -> None:
    camera = load_registry(write(tmp_path, [GOOD_CAMERA])).get("cam-09")
    assert (camera.frame_stride, camera.lines[0].line_id, camera.zones[0].zone_id) == (3, "road", "box")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"frame_stride": 0}, "cameras[0] (camera_id='cam-09') field 'frame_stride'"),
        ({"segment_id": None}, "cameras[0] (camera_id='cam-09') field 'segment_id'"),
        ({"lines": [{**GOOD_CAMERA["lines"][0], "end": [0.5, 1.7]}]}, "field 'lines.0.end.1'"),
        (
            {"lines": [{**GOOD_CAMERA["lines"][0], "directions": {"eastbound": [1, 0], "also": [1, 0.2]}}]},
            "directions must point to opposite sides",
        ),
        ({"lines": [GOOD_CAMERA["lines"][0]] * 2}, "duplicate ids ['road']"),
        ({"zones": [{"zone_id": "z", "polygon": [[0, 0], [1, 1]]}]}, "field 'zones.0.polygon'"),
        ({"colour": "red"}, "field 'colour': Extra inputs are not permitted"),
    ],
)
def test_a_bad_entry_names_file_entry_and_field(tmp_path: Path, change: dict, expected: str) -> None:
    path = write(tmp_path, [{**GOOD_CAMERA, **change}])
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_duplicate_cameras_and_unknown_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        RegistryError, match=r"cameras\[1\] \(camera_id='cam-09'\) field 'camera_id': duplicate"
    ):
        load_registry(write(tmp_path, [GOOD_CAMERA, GOOD_CAMERA]))
    registry = load_registry(write(tmp_path, [GOOD_CAMERA]))
    with pytest.raises(RegistryError, match="'cam-77' is not in the registry; known: cam-09"):
        registry.get("cam-77")


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"missing\.yaml: file is missing"):
        load_registry(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: [unclosed")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(broken)
    broken.write_text("- just a list")
    with pytest.raises(RegistryError, match="expected a mapping with 'cameras'"):
        load_registry(broken)


def test_a_repeated_key_is_refused_in_one_line_naming_the_file(tmp_path: Path) -> None:
    """Plain YAML keeps the last of two equal keys; the registry refuses instead of guessing."""
    path = tmp_path / "cameras.yaml"
    path.write_text(
        "cameras:\n"
        "  - {camera_id: cam-09, segment_id: RS009, district_id: D01,\n"
        "     frame_stride: 3, frame_stride: 1}\n"
    )
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert str(error.value) == f"{path}: not valid YAML at line 3: duplicate key 'frame_stride'"
