"""`inference` for LaneNet: any backend over images, a folder, a glob or a video.

Writes what lane tools read: TuSimple JSON lines (`tusimple_predictions.json`: raw_file, lanes, h_samples,
run_time in ms), CULane `lines/<image>.lines.txt`, and overlays (`images_annotated/`, one colour per lane;
an annotated video for a video input).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from taokit.data.image_io import resize_image
from taokit.data.image_sources import Frame, resolve_inputs
from taokit.engine.files import atomic_write_text
from taokit.requests import InferenceRequest
from taokit.results import Result
from taokit.runtime.devices import requested_device
from taokit.tasks.common.frames import run_batches
from taokit.tasks.lanenet.postprocess import LanePrediction, output_rows, predict_lanes
from taokit.tasks.lanenet.runner import LaneNetRunner, open_runner
from taokit.tasks.lanenet.spec import LaneNetExperiment, LaneNetInferenceSpec
from taokit.tasks.lanenet.spec.inference import OutputConfig
from taokit.tasks.lanenet.spec.model import PostprocessingConfig

log = logging.getLogger("taokit.lanenet")
COLORS = [(255, 64, 64), (64, 200, 64), (64, 128, 255), (255, 200, 0), (200, 64, 255), (0, 220, 220)]


def _settings(spec: LaneNetExperiment | LaneNetInferenceSpec | None, request: InferenceRequest
              ) -> tuple[PostprocessingConfig, OutputConfig, int, int]:
    """(post-processing, outputs, batch size, anchor stride) from whichever spec was given."""
    if isinstance(spec, LaneNetInferenceSpec):
        return (spec.postprocessing_config, spec.output_config,
                request.batch_size or spec.inferencer_config.batch_size, spec.inferencer_config.anchor_stride)
    if isinstance(spec, LaneNetExperiment):
        return (spec.postprocessing_config, OutputConfig(), request.batch_size or spec.train_config.batch_size,
                spec.model_config_.anchor_stride)
    return PostprocessingConfig(), OutputConfig(), request.batch_size or 4, 8


def draw_lanes(image: np.ndarray, lanes: list[LanePrediction], rows: list[int], width: int) -> np.ndarray:
    out = np.ascontiguousarray(image.copy())
    for k, lane in enumerate(lanes):
        points = np.asarray(lane.points(rows), np.int32).reshape(-1, 1, 2)
        if len(points) >= 2:
            cv2.polylines(out, [points], False, COLORS[k % len(COLORS)], width, cv2.LINE_AA)
    return out


class _Writer:
    def __init__(self, out: Path, outputs: OutputConfig, video: Path | None, fps: float) -> None:
        self.out, self.outputs, self.video_path, self.fps = out, outputs, video, fps
        self.lines: list[str] = []
        self.video: cv2.VideoWriter | None = None
        if outputs.overlay:
            (out / "images_annotated").mkdir(parents=True, exist_ok=True)
        if outputs.culane_lines:
            (out / "lines").mkdir(parents=True, exist_ok=True)

    def write(self, frame: Frame, lanes: list[LanePrediction], rows: list[int], run_time_ms: float) -> None:
        stem = Path(frame.name).stem
        xs = [list(lane.xs) for lane in lanes]
        self.lines.append(json.dumps({"raw_file": frame.name, "lanes": xs, "h_samples": rows,
                                      "run_time": round(run_time_ms, 3)}))
        if self.outputs.culane_lines:
            text = "".join(" ".join(f"{x:.1f} {int(y)}" for x, y in lane.points(rows)) + "\n" for lane in lanes)
            atomic_write_text(self.out / "lines" / f"{stem}.lines.txt", text)
        if self.outputs.overlay:
            drawn = draw_lanes(frame.image, lanes, rows, self.outputs.overlay_linewidth)
            if self.video_path is not None:
                self._video_frame(drawn)
            else:
                # JPEG: a 1280x720 PNG costs ~25 ms to encode, more than the whole lane pipeline
                cv2.imwrite(str(self.out / "images_annotated" / f"{stem}.jpg"), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 90])

    def _video_frame(self, rgb: np.ndarray) -> None:
        if self.video is None:
            path = self.out / "images_annotated" / f"{self.video_path.stem}_annotated.mp4"  # type: ignore[union-attr]
            self.video = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, rgb.shape[1::-1])
        self.video.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        if self.outputs.tusimple_json:
            atomic_write_text(self.out / "tusimple_predictions.json", "".join(line + "\n" for line in self.lines))
        if self.video is not None:
            self.video.release()


def _batch_lanes(runner: LaneNetRunner, frames: list[Frame], post: PostprocessingConfig, stride: int
                 ) -> list[tuple[list[LanePrediction], list[int], float]]:
    start = time.perf_counter()
    batch = np.stack([resize_image(f.image, runner.input_hw).transpose(2, 0, 1) for f in frames])
    prob, embedding = runner.predict(batch.astype(np.float32) * (1.0 / 255.0))
    forward_ms = (time.perf_counter() - start) * 1000.0 / len(frames)
    out = []
    for i, frame in enumerate(frames):
        started = time.perf_counter()
        rows = output_rows(post, frame.image.shape[0])
        lanes = predict_lanes(prob[i, 0], embedding[i], frame.image.shape[:2], rows, post, stride)
        out.append((lanes, rows, forward_ms + (time.perf_counter() - started) * 1000.0))
    return out


def run_inference(spec: LaneNetExperiment | LaneNetInferenceSpec | None, request: InferenceRequest) -> Result:
    cv2.setNumThreads(1)  # decoding runs beside the model; OpenCV's own pool would only compete for cores
    post, outputs, batch_size, stride = _settings(spec, request)
    hw = spec.input_hw if isinstance(spec, LaneNetExperiment) else None
    device = request.device
    if device is None and isinstance(spec, LaneNetInferenceSpec):
        device = requested_device(None, 1, [spec.inferencer_config.gpu_index])
    runner = open_runner(request.model_path, backend=request.backend, device=device, input_hw=hw)
    inputs = resolve_inputs(request.inputs)
    out = Path(request.results_dir)  # type: ignore[arg-type]
    writer = _Writer(out, outputs, inputs.paths[0] if inputs.kind == "video" else None, inputs.fps)
    lanes_found = 0

    def handle(batch: list[Frame]) -> None:
        nonlocal lanes_found
        for frame, (lanes, rows, run_time) in zip(batch, _batch_lanes(runner, batch, post, stride), strict=True):
            writer.write(frame, lanes, rows, run_time)
            lanes_found += len(lanes)

    try:
        run = run_batches(inputs, batch_size, handle, strict=request.strict, described_as=request.inputs)
    finally:
        writer.close()
        runner.close()
    lines = [run.summary(runner.backend.name, f"{lanes_found} lane(s)", "clustering included")]
    if outputs.tusimple_json:
        lines.append(f"TuSimple predictions: {out / 'tusimple_predictions.json'}")
    if outputs.culane_lines:
        lines.append(f"CULane lines: {out / 'lines'}")
    if outputs.overlay:
        lines.append(f"annotated: {out / 'images_annotated'}")
    return Result(lines=lines, data={"images": run.images, "lanes": lanes_found, "images_per_s": run.images_per_s,
                                     "skipped": len(run.skipped)})
