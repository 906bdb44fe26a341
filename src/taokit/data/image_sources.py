"""Inference inputs: one image, a directory, a glob pattern or a video, as a stream of RGB frames."""

from __future__ import annotations

import glob
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from taokit.data.image_files import IMAGE_EXTENSIONS, list_images
from taokit.data.image_io import read_rgb
from taokit.errors import DataError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass(frozen=True)
class Frame:
    """An input image. `name` is unique per run: the file name, or `<video>_<frame>.png` for videos."""

    name: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    source: Path
    index: int = 0


@dataclass(frozen=True)
class InputSet:
    kind: str  # "images" or "video"
    paths: list[Path]
    fps: float = 0.0


def resolve_inputs(spec: str) -> InputSet:
    """What `-i` names: an image, a video, a directory of images, or a glob pattern."""
    path = Path(spec)
    if path.is_dir():
        images = list_images(path)
        if not images:
            raise DataError(f"{path}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
        return InputSet("images", images)
    if path.is_file():
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            capture = cv2.VideoCapture(str(path))
            if not capture.isOpened():
                raise DataError(f"{path}: cannot open this video (unsupported codec or corrupt file)")
            fps = capture.get(cv2.CAP_PROP_FPS) or 25.0  # the annotated video keeps the input's rate
            capture.release()
            return InputSet("video", [path], fps)
        return InputSet("images", [path])
    if any(ch in spec for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(spec, recursive=True)
                         if Path(p).suffix.lower() in IMAGE_EXTENSIONS)
        if not matches:
            raise DataError(f"-i {spec}: the pattern matches no images")
        return InputSet("images", matches)
    raise DataError(f"-i {spec}: no such file or directory")


def _read(path: Path) -> np.ndarray:
    return read_rgb(path)  # the decoder evaluation and training use: the same pixels everywhere


def iter_frames(inputs: InputSet, skip_unreadable: bool = True,
                on_skip: object = None) -> Iterator[Frame]:
    """Frames in order. Unreadable images are skipped (reported through `on_skip`) unless told not to."""
    if inputs.kind == "video":
        capture = cv2.VideoCapture(str(inputs.paths[0]))
        index = 0
        stem = inputs.paths[0].stem
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            yield Frame(f"{stem}_{index:06d}.png", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), inputs.paths[0], index)
            index += 1
        capture.release()
        return
    for path in inputs.paths:
        try:
            yield Frame(path.name, _read(path), path)
        except DataError as err:
            if not skip_unreadable:
                raise
            if callable(on_skip):
                on_skip(err)


def prefetch(items: Iterator[Frame], depth: int = 8) -> Iterator[Frame]:
    """Read ahead in a background thread so decoding overlaps the model."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                buffer.put(item)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            buffer.put(err)
        buffer.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while True:
        item = buffer.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def batched(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    """Frames in lists of `size` (the last one shorter)."""
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
