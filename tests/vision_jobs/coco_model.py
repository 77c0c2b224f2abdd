"""A COCO-named detection model built offline, for tests that must see COCO's class names.

``yolov8n.yaml`` with COCO's 80 names and the shipped simulator model's trained weights copied in, so
the model really finds the simulator's road users, each under the COCO class a test names for it (a
motorbike may come out as ``motorcycle``, or as ``bicycle``); every other COCO class never fires.
No download: the architecture comes from Ultralytics' packaged YAML.
"""

from __future__ import annotations

from pathlib import Path

COCO_NAMES = tuple(
    [
        "person",
        "bicycle",
        "car",
        "motorcycle",
        "airplane",
        "bus",
        "train",
        "truck",
        "boat",
        "traffic light",
        "fire hydrant",
        "stop sign",
        "parking meter",
        "bench",
        "bird",
        "cat",
        "dog",
        "horse",
        "sheep",
        "cow",
        "elephant",
        "bear",
        "zebra",
        "giraffe",
        "backpack",
        "umbrella",
        "handbag",
        "tie",
        "suitcase",
        "frisbee",
        "skis",
        "snowboard",
        "sports ball",
        "kite",
        "baseball bat",
        "baseball glove",
        "skateboard",
        "surfboard",
        "tennis racket",
        "bottle",
        "wine glass",
        "cup",
        "fork",
        "knife",
        "spoon",
        "bowl",
        "banana",
        "apple",
        "sandwich",
        "orange",
        "broccoli",
        "carrot",
        "hot dog",
        "pizza",
        "donut",
        "cake",
        "chair",
        "couch",
        "potted plant",
        "bed",
        "dining table",
        "toilet",
        "tv",
        "laptop",
        "mouse",
        "remote",
        "keyboard",
        "cell phone",
        "microwave",
        "oven",
        "toaster",
        "sink",
        "refrigerator",
        "book",
        "clock",
        "vase",
        "scissors",
        "teddy bear",
        "hair drier",
        "toothbrush",
    ]
)
SIMULATOR_AS_COCO = {
    "person": "person",
    "car": "car",
    "bus": "bus",
    "truck": "truck",
    "motorbike": "motorcycle",
}


def coco_named_model(
    path: Path, simulator_weights: Path, as_coco: dict[str, str] = SIMULATOR_AS_COCO
) -> Path:
    """Write the model to ``path``: COCO's names, the simulator model's weights, simulator class
    ``s`` reported as COCO class ``as_coco[s]``."""
    import torch
    from ultralytics import YOLO

    simulator, coco = YOLO(str(simulator_weights)), YOLO("yolov8n.yaml")
    source, target = simulator.model.state_dict(), coco.model.state_dict()
    sim_ids = {name: i for i, name in simulator.model.names.items()}
    with torch.no_grad():
        for key, value in target.items():
            old = source[key]
            if old.shape == value.shape:
                value.copy_(old)
            elif key.endswith(".2.weight") or key.endswith(".2.bias"):  # the class logits of a scale
                value.zero_()
                if key.endswith(".bias"):
                    value.fill_(-30.0)  # sigmoid ~ 1e-13: never above any confidence threshold
                for sim_name, coco_name in as_coco.items():
                    c, s = COCO_NAMES.index(coco_name), sim_ids[sim_name]
                    if value.dim() == 1:
                        value[c] = old[s]
                    else:
                        value[c, : old.shape[1]] = old[s]
            else:  # the wider class branch (80 channels, not 64): the extra channels stay silent
                value.zero_()
                if key.endswith("running_var"):
                    value.fill_(1.0)
                region = tuple(slice(0, n) for n in old.shape)
                value[region] = old
    coco.model.names = dict(enumerate(COCO_NAMES))
    coco.save(str(path))
    return path
