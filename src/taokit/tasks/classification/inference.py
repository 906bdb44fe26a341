"""`inference` for classification: any backend over an image, a folder (recursively), a glob or a video.

Writes TAO tf1's result.csv: one `image_path,class_label,confidence` row per image, no header.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from taokit.data.image_files import IMAGE_EXTENSIONS
from taokit.data.image_sources import Frame, InputSet, resolve_inputs
from taokit.engine.files import atomic_write_csv
from taokit.errors import DataError, UsageError
from taokit.requests import InferenceRequest
from taokit.results import Result, Table
from taokit.tasks.classification.evaluate import open_checked
from taokit.tasks.classification.runner import ClassifierRunner
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.transforms import EvalTransform, to_network
from taokit.tasks.common.frames import run_batches

log = logging.getLogger("taokit.classification")
SHOWN_ROWS = 20


def _inputs(arg: str) -> InputSet:
    path = Path(arg)
    if path.is_dir():  # TAO walks the folder, so a whole ImageFolder split can be classified at once
        images = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not images:
            raise DataError(f"{path}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
        return InputSet("images", images)
    return resolve_inputs(arg)


def _predict(runner: ClassifierRunner, frames: list[Frame], transform: EvalTransform) -> np.ndarray:
    pre = runner.info.preprocess
    batch = np.stack([pre.apply(to_network(transform(f.image), pre.bgr)) for f in frames])
    return runner.predict(batch)


def run_inference(spec: ClassificationSpec | None, request: InferenceRequest) -> Result:
    if request.results_dir is None:
        raise UsageError("inference needs -r/--results_dir (or -o) for its outputs")
    inputs_arg = request.inputs
    model_path = request.model_path
    inputs = _inputs(inputs_arg)
    runner = open_checked(model_path, spec, request, None)
    info = runner.info
    center_crop = spec.evaluate.center_crop if spec is not None else info.center_crop
    transform = EvalTransform(info.input_hw, info.interpolation, center_crop)
    batch_size = request.batch_size or (spec.inference.batch_size or spec.eval_batch_size if spec else 16)
    rows: list[tuple[str, str, float]] = []

    def handle(batch: list[Frame]) -> None:
        for frame, p in zip(batch, _predict(runner, batch, transform), strict=True):
            name = str(frame.source) if inputs.kind == "images" else frame.name
            rows.append((name, info.class_names[int(p.argmax())], float(p.max())))

    try:
        run = run_batches(inputs, batch_size, handle, strict=request.strict, described_as=inputs_arg)
    finally:
        runner.close()
    out = Path(request.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(out / "result.csv", ((p, c, f"{conf:.6f}") for p, c, conf in rows))
    shown = Table(f"predictions (first {min(len(rows), SHOWN_ROWS)} of {len(rows)})",
                  ["image", "class", "confidence"], [list(r) for r in rows[:SHOWN_ROWS]])
    return Result(lines=[run.summary(runner.backend.name), f"result: {out / 'result.csv'}"], tables=[shown],
                  data={"images": run.images, "images_per_s": run.images_per_s, "skipped": len(run.skipped)})
