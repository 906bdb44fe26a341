"""ImageFolder datasets (`<split>/<class>/<image>`), the class order, and classmap.json.

Class order: an explicit classes.txt / classmap.json (the spec's, else one found in the training folder or
beside it), otherwise the sorted class-folder names, which is what Keras and TAO use.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from taokit.data.image_files import IMAGE_EXTENSIONS, image_size, verify_image
from taokit.data.records import corrupt_images_line
from taokit.engine.files import atomic_write_text
from taokit.errors import DataError

log = logging.getLogger("taokit.classification")
CLASS_FILES = ("classes.txt", "classmap.json")


@dataclass
class FolderReport:
    """What reading the folders found that is worth a warning rather than an error."""

    empty_classes: list[str] = field(default_factory=list)
    corrupt_images: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        out = []
        if self.empty_classes:
            out.append(f"{len(self.empty_classes)} class folder(s) have no images: "
                       f"{', '.join(self.empty_classes[:5])}{' ...' if len(self.empty_classes) > 5 else ''}")
        if self.corrupt_images:
            out.append(corrupt_images_line(self.corrupt_images))
        return out


@dataclass(frozen=True)
class ImageFolder:
    root: Path
    classes: tuple[str, ...]  # network output order
    samples: list[tuple[Path, int]]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.classes, 0)
        for _, label in self.samples:
            out[self.classes[label]] += 1
        return out


def class_folders(root: Path) -> list[str]:
    """Sorted names of the class sub-folders (hidden ones skipped)."""
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found; expected <split>/<class>/<image> folders")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_class_file(path: Path) -> list[str]:
    """classes.txt (one class per line, index = line) or a classmap.json of {"class": index}."""
    if not path.is_file():
        raise DataError(f"{path}: class list not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".json":
        classes = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
            raise DataError(f'{path}: expected {{"class name": index, ...}} with integer indices')
        if sorted(mapping.values()) != list(range(len(mapping))):
            raise DataError(f"{path}: class indices must be 0..{len(mapping) - 1}, each used once")
        classes = sorted(mapping, key=mapping.__getitem__)
    if len(set(classes)) != len(classes):
        raise DataError(f"{path}: a class is listed twice")
    if not classes:
        raise DataError(f"{path}: the class list is empty")
    return classes


def find_class_file(train_dir: Path, explicit: str = "") -> Path | None:
    if explicit:
        return Path(explicit)
    for directory in (train_dir, train_dir.parent):
        for name in CLASS_FILES:
            if (directory / name).is_file():
                return directory / name
    return None


def class_order(train_dir: Path, explicit: str = "") -> tuple[list[str], Path | None]:
    """The network's classes and the file they came from (None: the sorted folder names)."""
    source = find_class_file(train_dir, explicit)
    if source is not None:
        return read_class_file(source), source
    return class_folders(train_dir), None


def _images(folder: Path) -> list[Path]:
    wanted = set(IMAGE_EXTENSIONS)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in wanted)


def read_image_folder(root: Path, classes: list[str], *, split: str, report: FolderReport,
                      strict: bool = False) -> ImageFolder:
    """Images of `root` labelled with indices into `classes`.

    A class folder that is not in `classes` is an error (a val class the model never learnt); a class
    with no images is counted; an image whose header does not decode is skipped and counted (`strict`:
    the whole image is decoded and any failure stops the run).
    """
    folders = class_folders(root)
    unknown = [f for f in folders if f not in classes]
    if unknown:
        raise DataError(f"{root}: {split} class folder '{unknown[0]}' is not one of the model's classes "
                        f"({', '.join(classes)}); rename or remove it")
    samples: list[tuple[Path, int]] = []
    for index, name in enumerate(classes):
        folder = root / name
        images = _images(folder) if folder.is_dir() else []
        kept = 0
        for path in images:
            try:
                verify_image(path) if strict else image_size(path)
            except DataError:
                if strict:
                    raise
                report.corrupt_images.append(str(path))
                continue
            samples.append((path, index))
            kept += 1
        if kept == 0:
            report.empty_classes.append(f"{split}/{name}")
    return ImageFolder(root, tuple(classes), samples)


def classmap(classes: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Keras's `class_indices`, which TAO writes as classmap.json."""
    return {name: i for i, name in enumerate(classes)}


def write_classmap(path: Path, classes: list[str] | tuple[str, ...]) -> None:
    atomic_write_text(path, json.dumps(classmap(classes)) + "\n")


def check_classmap(path: Path, model_classes: list[str] | tuple[str, ...]) -> None:
    """A classmap given on the command line must describe the model's outputs exactly."""
    given = read_class_file(path)
    if list(given) != list(model_classes):
        raise DataError(f"{path}: the classmap {given[:6]}{'...' if len(given) > 6 else ''} does not match the "
                        f"model's classes {list(model_classes)[:6]}{'...' if len(model_classes) > 6 else ''} "
                        "(same names in the same order are needed)")
