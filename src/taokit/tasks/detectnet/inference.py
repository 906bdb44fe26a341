"""`inference` for DetectNet_v2: any backend over images, a glob or a video; KITTI labels and overlays.

Decoding runs ahead in a thread and outputs are written by another, so the model is rarely idle.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from taokit.data.image_io import resize_image
from taokit.data.image_sources import Frame, InputSet, resolve_inputs
from taokit.data.kitti import format_detection
from taokit.data.records import Detection
from taokit.engine.files import atomic_write_text
from taokit.errors import UsageError
from taokit.requests import InferenceRequest
from taokit.results import Result
from taokit.runtime.devices import requested_device
from taokit.tasks.common.frames import run_batches
from taokit.tasks.detectnet.postprocess import (
    ClassPostprocess,
    from_experiment,
    from_inference_spec,
    postprocess,
)
from taokit.tasks.detectnet.runner import DetectNetRunner, open_runner
from taokit.tasks.detectnet.spec import DetectNetExperiment, DetectNetInferenceSpec
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig
from taokit.tasks.detectnet.visualize import default_color, draw_detections

log = logging.getLogger("taokit.detectnet")


@dataclass
class _Settings:
    model_path: Path
    class_names: list[str] | None
    input_hw: tuple[int, int] | None
    batch_size: int
    params: dict[str, ClassPostprocess] | None
    colors: dict[str, tuple[int, int, int]]
    kitti_dump: bool = True
    overlay: bool = True
    line_width: int = 2
    device: str | None = None


def _settings(spec: DetectNetExperiment | DetectNetInferenceSpec | None, opts: InferenceRequest) -> _Settings:
    if isinstance(spec, DetectNetInferenceSpec):
        cfg, handler = spec.inferencer_config, spec.bbox_handler_config
        colors = {}
        for i, name in enumerate(cfg.target_classes):
            entry = handler.for_class(name)
            out = entry.output_map or name
            given = name in handler.classwise_bbox_handler_config or "default" in handler.classwise_bbox_handler_config
            colors[out] = (entry.bbox_color.R, entry.bbox_color.G, entry.bbox_color.B) if given else default_color(i)
        return _Settings(opts.model_path, list(cfg.target_classes), (cfg.image_height, cfg.image_width),
                         opts.batch_size or cfg.batch_size, from_inference_spec(spec), colors,
                         handler.kitti_dump, not handler.disable_overlay, handler.overlay_linewidth,
                         opts.device or _spec_gpu(cfg.gpu_index))
    if isinstance(spec, DetectNetExperiment):
        params = {n: ClassPostprocess(p.clustering, p.confidence_model) for n, p in from_experiment(spec).items()}
        colors = {n: default_color(i) for i, n in enumerate(spec.class_names)}
        return _Settings(opts.model_path, spec.class_names, spec.input_hw,
                         opts.batch_size or spec.training_config.batch_size_per_gpu, params, colors)
    return _Settings(opts.model_path, None, None, opts.batch_size or 8, None, {})


def _spec_gpu(index: int) -> str | None:
    """inferencer_config.gpu_index picks the GPU when the command line does not (no GPU: the CPU)."""
    return requested_device(None, 1, [index])


class _Writer:
    """Writes labels/ and images_annotated/ (or an annotated video) off the main thread."""

    def __init__(self, results_dir: Path, settings: _Settings, inputs: InputSet) -> None:
        self.labels = results_dir / "labels"
        self.images = results_dir / "images_annotated"
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.video = None
        if settings.kitti_dump:
            self.labels.mkdir(parents=True, exist_ok=True)
        if settings.overlay:
            self.images.mkdir(parents=True, exist_ok=True)
        self.inputs = inputs
        self.pending: list = []

    def submit(self, frame: Frame, detections: list[Detection]) -> None:
        self.pending.append(self.pool.submit(self._write, frame, detections))
        if len(self.pending) > 32:
            self.pending.pop(0).result()

    def _write(self, frame: Frame, detections: list[Detection]) -> None:
        stem = Path(frame.name).stem
        if self.settings.kitti_dump:
            lines = [format_detection(d.class_name, d.x1, d.y1, d.x2, d.y2, d.confidence) for d in detections]
            atomic_write_text(self.labels / f"{stem}.txt", "".join(line + "\n" for line in lines))
        if self.settings.overlay:
            annotated = draw_detections(frame.image, detections, self.settings.colors, self.settings.line_width)
            if self.inputs.kind == "video":
                self._video_frame(np.asarray(annotated))
            else:
                annotated.save(self.images / frame.name, compress_level=1)

    def _video_frame(self, rgb: np.ndarray) -> None:
        if self.video is None:
            path = self.images / f"{self.inputs.paths[0].stem}_annotated.mp4"
            h, w = rgb.shape[:2]
            self.video = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.inputs.fps, (w, h))
        self.video.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        for future in self.pending:
            future.result()
        self.pool.shutdown(wait=True)
        if self.video is not None:
            self.video.release()


def _prepare(frames: list[Frame], hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    out = np.empty((len(frames), 3, h, w), np.float32)
    for i, frame in enumerate(frames):
        out[i] = resize_image(frame.image, hw).transpose(2, 0, 1)
    out *= 1.0 / 255.0
    return out


def run_inference(spec: DetectNetExperiment | DetectNetInferenceSpec | None, opts: InferenceRequest) -> Result:
    cv2.setNumThreads(1)  # decoding runs beside the model; OpenCV's own pool would only compete for cores
    settings = _settings(spec, opts)
    if opts.results_dir is None:
        raise UsageError("inference needs -r/--results_dir (or -o) for its outputs")
    inputs_arg = opts.inputs
    runner = open_runner(settings.model_path, backend=opts.backend, device=settings.device or opts.device,
                         class_names=settings.class_names, input_hw=settings.input_hw)
    inputs = resolve_inputs(inputs_arg)
    info = runner.info
    params = settings.params or {n: ClassPostprocess(ClusteringConfig()) for n in info.class_names}
    settings.colors = settings.colors or {n: default_color(i) for i, n in enumerate(info.class_names)}
    writer = _Writer(opts.results_dir, settings, inputs)

    def handle(batch: list[Frame]) -> None:
        for frame, dets in zip(batch, _detect(runner, batch, params), strict=True):
            writer.submit(frame, dets)

    try:
        run = run_batches(inputs, settings.batch_size, handle, strict=opts.strict, described_as=inputs_arg)
    finally:
        writer.close()
        runner.close()
    lines = [run.summary(runner.backend.name)]
    if settings.kitti_dump:
        lines.append(f"labels: {writer.labels}")
    if settings.overlay:
        lines.append(f"annotated: {writer.images}")
    return Result(lines=lines, data={"images": run.images, "images_per_s": run.images_per_s, "skipped": len(run.skipped)})


def _detect(runner: DetectNetRunner, batch: list[Frame], params: dict[str, ClassPostprocess]) -> list[list[Detection]]:
    info = runner.info
    cov, bbox = runner.predict(_prepare(batch, info.input_hw))
    sizes = [(f.image.shape[1], f.image.shape[0]) for f in batch]
    return postprocess(cov, bbox, list(info.class_names), params, info.input_hw, info.scale, info.offset,
                       image_sizes=sizes)
