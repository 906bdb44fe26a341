"""Models by name from the CLI (issue 21), against a local NGC-shaped server: the seed's two commands, a TAO
KITTI spec that starts from `pretrained_detectnet_v2`, a pruned NGC model fine-tuned on other classes, and
torchvision weights. The served files are written here from taokit models (tests/ngc_testing.py)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import yaml

from ngc_server import Registry, point_taokit_at, serve
from ngc_testing import write_keras2onnx_detectnet, write_keras_hdf5
from taokit_testing import DEMO_TRAIN_SPEC, run_cli, tiny_train_overrides

pytestmark = pytest.mark.slow

PEOPLENET = ("nvidia/tao/peoplenet", "pruned_quantized_decrypted_v2.3.4", "resnet34_peoplenet_int8.onnx")
TRAFFICCAMNET = ("nvidia/tao/trafficcamnet", "pruned_onnx_v1.0.4", "resnet18_trafficcamnet_pruned.onnx")
TRAFFIC_CLASSES = ("car", "bicycle", "person", "road_sign")


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    registry = Registry()
    with serve(registry) as base:
        point_taokit_at(base, tmp_path / "home", monkeypatch)
        yield registry


def _publish(registry: Registry, model: tuple[str, str, str], files: dict[str, Path]) -> None:
    registry.models.setdefault(model[0], {})[model[1]] = {name: p.read_bytes() for name, p in files.items()}


def test_peoplenet_by_name_in_two_commands(registry: Registry, tmp_path: Path, monkeypatch) -> None:
    """The seed's flow with only taokit: `tao model download …` then inference with `-m ngc://…`."""
    import cv2

    from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2

    torch.manual_seed(0)
    model = DetectNetV2(DetectNetArch("resnet", 10, ("person", "bag", "face"), (544, 960), template="tao"))
    with torch.no_grad():
        model.output_cov.weight.mul_(30.0)
        model.output_cov.bias.fill_(2.0)
        model.output_bbox.bias.fill_(1.0)
    made = tmp_path / "made"
    made.mkdir()
    write_keras2onnx_detectnet(model, made / PEOPLENET[2])
    (made / "labels.txt").write_text("person\nbag\nface\n")
    _publish(registry, PEOPLENET, {PEOPLENET[2]: made / PEOPLENET[2], "labels.txt": made / "labels.txt"})
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_cli("detectnet", "default_specs", "-r", work).exit_code == 0
    writer = cv2.VideoWriter("video.mp4", cv2.VideoWriter_fourcc(*"mp4v"), 5, (1280, 720))
    for _ in range(2):
        writer.write(np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8))
    writer.release()

    downloaded = run_cli("model", "download", f"{PEOPLENET[0]}:{PEOPLENET[1]}")
    assert downloaded.exit_code == 0, downloaded.output
    asked = len(registry.requests)
    result = run_cli("detectnet", "inference", "-e", "peoplenet.txt", "-m",
                     f"ngc://{PEOPLENET[0]}:{PEOPLENET[1]}/{PEOPLENET[2]}", "-i", "video.mp4", "-o", "out/")
    assert result.exit_code == 0, result.output
    assert len(registry.requests) == asked  # the second command found the file in the cache
    assert len(list((work / "out" / "labels").iterdir())) == 2
    imported = run_cli("detectnet", "import", "-m", f"ngc://{PEOPLENET[0]}:{PEOPLENET[1]}/{PEOPLENET[2]}")
    assert imported.exit_code == 0, imported.output  # labels.txt came with the model
    assert (work / "resnet34_peoplenet_int8.pth").is_file()  # written here, not into the cache


def test_a_kitti_spec_starts_from_pretrained_detectnet_v2_by_name(registry: Registry, tiny_detector: Path,
                                                                   tiny_kitti: Path, tmp_path: Path) -> None:
    from taokit.tasks.detectnet.network import load_model

    model, _ = load_model(tiny_detector / "weights" / "tiny.pth")
    hdf5 = write_keras_hdf5(model, tmp_path / "resnet18.hdf5")
    _publish(registry, ("nvidia/tao/pretrained_detectnet_v2", "resnet18", ""), {"resnet18.hdf5": hdf5})
    run = tmp_path / "run"
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", run, *tiny_train_overrides(tiny_kitti, **{
        "model_config.pretrained_model_file": "ngc://nvidia/tao/pretrained_detectnet_v2:resnet18"}))
    assert result.exit_code == 0, result.output
    assert "tensors loaded" in result.output
    digest = hashlib.sha256(hdf5.read_bytes()).hexdigest()
    record = yaml.safe_load((run / "experiment.yaml").read_text())
    assert record["sources"] == [{"source": "ngc://nvidia/tao/pretrained_detectnet_v2:resnet18",
                                  "path": str(tmp_path / "home" / "ngc" / "nvidia" / "tao" / "pretrained_detectnet_v2"
                                              / "resnet18" / "resnet18.hdf5"), "sha256": digest}]
    events = [json.loads(line) for line in (run / "status.json").read_text().splitlines()]
    assert events[-1]["categorical"]["sources"] == {"ngc://nvidia/tao/pretrained_detectnet_v2:resnet18": digest}


def test_pruned_ngc_model_fine_tunes_on_other_classes(registry: Registry, tiny_kitti: Path, tmp_path: Path) -> None:
    from taokit.engine.checkpoint import save_file
    from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
    from taokit.tasks.detectnet.network import load_model, model_payload

    torch.manual_seed(1)
    source = DetectNetV2(DetectNetArch("resnet", 10, TRAFFIC_CLASSES, (64, 96), template="tao"))
    save_file(tmp_path / "traffic.pth", model_payload(source), kind="model")
    pruned = tmp_path / "traffic_pruned.pth"
    assert run_cli("detectnet", "prune", "-m", tmp_path / "traffic.pth", "-o", pruned, "-pth", "0.5").exit_code == 0
    pruned_model, _ = load_model(pruned)
    onnx_file = write_keras2onnx_detectnet(pruned_model, tmp_path / TRAFFICCAMNET[2])
    (tmp_path / "labels.txt").write_text("\n".join(TRAFFIC_CLASSES) + "\n")
    _publish(registry, TRAFFICCAMNET, {TRAFFICCAMNET[2]: onnx_file, "labels.txt": tmp_path / "labels.txt"})

    run = tmp_path / "run"
    trained = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", run, *tiny_train_overrides(tiny_kitti, **{
        "model_config.pretrained_model_file": f"ngc://{TRAFFICCAMNET[0]}:{TRAFFICCAMNET[1]}/{TRAFFICCAMNET[2]}",
        "model_config.load_graph": "true", "model_config.freeze_blocks": "[]"}))
    assert trained.exit_code == 0, trained.output
    assert "new output_cov/output_bbox heads for car, pedestrian, cyclist" in trained.output
    assert "weights kept for car" in trained.output
    weights = run / "weights" / "model.pth"
    evaluated = run_cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", weights, "-r", tmp_path / "eval",
                        *tiny_train_overrides(tiny_kitti))
    assert evaluated.exit_code == 0, evaluated.output
    assert "mAP" in json.loads((tmp_path / "eval" / "metrics.json").read_text())
    exported = tmp_path / "mine.onnx"
    assert run_cli("detectnet", "export", "-m", weights, "-o", exported).exit_code == 0
    mine, theirs = onnx.load(str(exported)), onnx.load(str(onnx_file))
    assert mine.graph.input[0].name == theirs.graph.input[0].name == "input_1:0"
    assert [o.name for o in mine.graph.output] == [o.name for o in theirs.graph.output]
    channels = {o.name: o.type.tensor_type.shape.dim[1].dim_value for o in mine.graph.output}
    assert channels == {"output_cov/Sigmoid:0": 3, "output_bbox/BiasAdd:0": 12}
    def backbone_widths(graph: onnx.GraphProto, heads: list[int]) -> list[int]:
        widths = sorted(i.dims[0] for i in graph.initializer if len(i.dims) == 4)
        for width in heads:
            widths.remove(width)
        return widths

    assert backbone_widths(mine.graph, [3, 12]) == backbone_widths(theirs.graph, [4, 16])  # still the pruned one


def test_torchvision_weights_by_name_start_a_torchvision_backbone(registry: Registry, tiny_kitti: Path,
                                                                   tmp_path: Path, monkeypatch) -> None:
    """torchvision's weights enum names the file; the entry is a fake pointing at local weights (no hub here)."""
    import torchvision

    buffer = io.BytesIO()
    torch.save(torchvision.models.resnet18().state_dict(), buffer)
    data = buffer.getvalue()
    name = f"resnet18-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    registry.models["torchvision"] = {"": {name: data}}

    class FakeEntry:  # a stand-in for ResNet18_Weights.IMAGENET1K_V1: same URL form, our file's hash prefix
        url = f"https://download.pytorch.org/models/{name}"

    monkeypatch.setattr(torchvision.models, "get_weight", lambda text: FakeEntry() if text.startswith("ResNet18_")
                        else (_ for _ in ()).throw(ValueError(text)))
    run = tmp_path / "run"
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", run, *tiny_train_overrides(tiny_kitti, **{
        "model_config.arch": "torchvision_resnet", "model_config.num_layers": 18,
        "model_config.pretrained_model_file": "torchvision://ResNet18_Weights.IMAGENET1K_V1"}))
    assert result.exit_code == 0, result.output
    assert "tensors loaded" in result.output and registry.requests == [f"/models/{name}"]
    assert (tmp_path / "home" / "torchvision" / name).read_bytes() == data
