"""The LaneNet spec users copy from the TAO LaneNet guides runs as written: `tao lanenet train -e spec.txt -r
results -k KEY` (1280x720, zoom 1.0-2.0 as a magnification)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GUIDE_ROOT = "/workspace/tao-experiments/lanenet"


def test_the_spec_as_typed_is_accepted_and_stops_at_the_data_it_names(tao_specs: Path, tmp_path: Path, cli) -> None:
    result = cli("lanenet", "train", "-e", tao_specs / "lanenet_train_spec.txt", "-r", tmp_path / "results", "-k", "KEY")
    assert result.exit_code == 2, result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and f"{GUIDE_ROOT}/train/" in error[0], result.stderr  # the data, not the spec


def test_the_spec_trains_on_its_data(tao_specs: Path, tmp_path: Path, cli) -> None:
    """The same text with its four folders pointing at TuSimple-labelled 1280x720 scenes; one epoch."""
    from taokit.tasks.lanenet.demo_data import generate

    data = tmp_path / "data"
    generate(data, num_images=6, seed=11, val_fraction=0.34)
    text = (tao_specs / "lanenet_train_spec.txt").read_text()
    for split in ("train", "val"):
        text = text.replace(f"{GUIDE_ROOT}/{split}/images", str(data / "images"))
        text = text.replace(f"{GUIDE_ROOT}/{split}/labels", str(data / f"{split}_labels"))
    assert GUIDE_ROOT not in text
    spec = tmp_path / "spec.txt"
    spec.write_text(text)
    results = tmp_path / "results"
    result = cli("lanenet", "train", "-e", spec, "-r", results, "-k", "KEY", "train_config.epochs=1")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in (results / "status.json").read_text().splitlines()]
    assert events[-1]["status"] == "SUCCESS"
    import torch
    import yaml

    record = torch.load(results / "weights" / "model.pth", weights_only=True)
    assert record["arch"]["input_hw"] == [720, 1280]
    augmentation = yaml.safe_load(record["spec"]["yaml"])["augmentation_config"]
    assert (augmentation["zoom_min"], augmentation["zoom_max"]) == (1.0, 2.0)
