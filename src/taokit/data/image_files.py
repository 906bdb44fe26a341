"""Image files on disk: listing by extension, sizes from headers, decode checks, pairing with labels.

Readers open only the image header (cheap) to learn its size; a full decode is reserved for
`--strict` runs, where a corrupt file must stop the run instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from taokit.data.records import BoxLabel, DatasetReport, ImageRecord, clip_boxes
from taokit.errors import DataError

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

#: Reads the boxes of one label file, given the size of its image (YOLO needs it to leave
#: normalised coordinates); boxes are returned unclipped.
LabelReader = Callable[[Path, int, int], list[BoxLabel]]


def normalize_extension(extension: str) -> str:
    """`"png"`, `".png"` and `".PNG"` all mean `.png` (TAO writes it both ways in different specs)."""
    extension = extension.strip().lower()
    return extension if extension.startswith(".") or not extension else f".{extension}"


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:160] if text else type(err).__name__


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) read from the image header only; `DataError` for a missing or unreadable file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except FileNotFoundError:
        raise DataError(f"{path}: image not found; check the image directory and extension") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise DataError(f"{path}: not a readable image ({_first_line(err)}); replace or delete the file") from None


def verify_image(path: Path) -> tuple[int, int]:
    """Decode the whole image (catches truncated files a header read misses); returns (width, height)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.size
    except FileNotFoundError:
        raise DataError(f"{path}: image not found; check the image directory and extension") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as err:
        raise DataError(f"{path}: image does not decode ({_first_line(err)}); replace or delete the file") from None


def list_images(directory: Path, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Image files directly in `directory` with one of `extensions` (case-insensitive), sorted by name.

    Sorting by name matches TAO's `sorted(os.listdir(...))`, so validation splits pick the same images.
    """
    wanted = {normalize_extension(e) for e in extensions}
    if not directory.is_dir():
        raise DataError(f"{directory}: image directory not found; check the dataset paths in the spec")
    return sorted((p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in wanted),
                  key=lambda p: p.name)


def checked_size(path: Path, *, strict: bool, report: DatasetReport) -> tuple[int, int] | None:
    """The image's size, or None after recording it as corrupt (strict mode decodes and raises)."""
    if strict:
        return verify_image(path)
    try:
        return image_size(path)
    except DataError:
        report.corrupt_images.append(str(path))
        return None


def relative_name(path: Path, root: Path) -> str:
    """`path` relative to `root` with forward slashes (the absolute path when it is not below root)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.absolute().as_posix()


def read_labelled_directory(image_dir: Path, label_dir: Path, read_labels: LabelReader, *,
                            root: Path, extensions: Iterable[str] = IMAGE_EXTENSIONS,
                            strict: bool = False, report: DatasetReport) -> list[ImageRecord]:
    """Pair images with `<stem>.txt` label files (KITTI and YOLO layouts) into sorted records.

    An image without a label file is a background image; a label file without an image is
    recorded in the report; corrupt images are skipped (or raise under `strict`).
    """
    extensions = [normalize_extension(e) for e in extensions]
    images = list_images(image_dir, extensions)
    if not images:
        raise DataError(f"{image_dir}: no images with extension {' or '.join(extensions)} found; "
                        "check the image directory and image_extension")
    if not label_dir.is_dir():
        raise DataError(f"{label_dir}: label directory not found; check the label directory in the spec")
    labels = {p.stem: p for p in label_dir.glob("*.txt")}
    stems = {p.stem for p in images}
    report.labels_without_image.extend(str(p) for s, p in sorted(labels.items()) if s not in stems)
    records = []
    for image in images:
        size = checked_size(image, strict=strict, report=report)
        if size is None:
            continue
        label = labels.get(image.stem)
        if label is None:
            report.images_without_labels += 1
        boxes = read_labels(label, *size) if label is not None else []
        name = relative_name(image, root)
        record = ImageRecord(image=name, frame_id=name[: -len(image.suffix)], width=size[0],
                             height=size[1], boxes=clip_boxes(boxes, size[0], size[1], report))
        report.count_record(record)
        records.append(record)
    return records
