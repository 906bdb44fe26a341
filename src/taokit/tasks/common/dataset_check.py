"""Checks `tao dataset validate` runs on every image a training run will read: decodable, not duplicated."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from taokit.data.image_io import read_rgb
from taokit.engine.progress import Progress
from taokit.errors import DataError

SHOWN = 3  # file names listed per kind of problem


@dataclass
class ImageScan:
    images: int = 0
    unreadable: list[str] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)  # groups of byte-identical files

    def lines(self) -> list[str]:
        return [f"{self.images} image(s) decoded", *self.problems()]

    def problems(self) -> list[str]:
        """What training would skip or count twice: `dataset validate --strict` fails on any of them."""
        out = []
        if self.unreadable:
            out.append(f"{len(self.unreadable)} image(s) cannot be decoded (training skips them): "
                       + "; ".join(self.unreadable[:SHOWN]))
        if self.duplicates:
            out.append(f"{len(self.duplicates)} group(s) of identical image files (the same picture counted twice, "
                       "or in both training and validation): " + "; ".join(" = ".join(g[:2]) for g in self.duplicates[:SHOWN]))
        return out


    def data(self) -> dict[str, int]:
        """The counts `tao dataset validate` records in status.json."""
        return {"images": self.images, "unreadable": len(self.unreadable), "duplicates": len(self.duplicates)}


def in_both_splits(train: Iterable[Path], val: Iterable[Path]) -> list[str]:
    """A warning line when an image is in both training and validation."""
    both = {p.resolve() for p in train} & {p.resolve() for p in val}
    if not both:
        return []
    return [f"{len(both)} image(s) are in both training and validation (validation then measures memory)"]


def scan_images(paths: Iterable[Path]) -> ImageScan:
    scan, digests = ImageScan(), {}
    paths = list(dict.fromkeys(paths))
    for path in Progress(len(paths), "decode")(paths):
        scan.images += 1
        try:
            read_rgb(path)
        except DataError as err:
            scan.unreadable.append(str(err))
            continue
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        digests.setdefault(digest, []).append(str(path))
    scan.duplicates = [group for group in digests.values() if len(group) > 1]
    return scan


def save_histograms(path: Path, series: dict[str, list[float]], title: str) -> None:
    """One histogram per series, side by side, as a PNG."""
    from taokit.engine.figures import new_figure, save_png

    fig, axes = new_figure((4 * len(series), 3.2), ncols=len(series))
    for ax, (name, values) in zip(list(getattr(axes, "flat", [axes])), series.items(), strict=True):
        ax.hist(values, bins=30)
        ax.set_title(name)
    fig.suptitle(title)
    save_png(fig, path)
