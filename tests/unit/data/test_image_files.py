"""Image listing, header sizes and decode checks on real PNG files written with PIL."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taokit.data.image_files import image_size, list_images, normalize_extension, verify_image
from taokit.errors import DataError


def _png(path: Path, size: tuple[int, int] = (32, 24)) -> Path:
    Image.new("RGB", size, (10, 20, 30)).save(path)
    return path


def test_image_size_reads_header(tmp_path: Path) -> None:
    assert image_size(_png(tmp_path / "a.png", (40, 30))) == (40, 30)


def test_missing_and_corrupt_images_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.png: image not found"):
        image_size(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="bad.png: not a readable image"):
        image_size(bad)


def test_verify_image_catches_truncated_file(tmp_path: Path) -> None:
    good = _png(tmp_path / "good.png", (64, 64))
    Image.effect_noise((64, 64), 50).convert("RGB").save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:200])
    assert image_size(truncated) == (64, 64)  # the header alone looks fine
    with pytest.raises(DataError, match="truncated.png: image does not decode"):
        verify_image(truncated)
    assert verify_image(good) == (64, 64)


def test_list_images_sorted_and_filtered(tmp_path: Path) -> None:
    for name in ("b.png", "a.PNG", "c.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in list_images(tmp_path, ["png"])] == ["a.PNG", "b.png"]
    assert [p.name for p in list_images(tmp_path)] == ["a.PNG", "b.png", "c.jpg"]
    with pytest.raises(DataError, match="image directory not found"):
        list_images(tmp_path / "nope")


def test_normalize_extension() -> None:
    assert normalize_extension("png") == normalize_extension(".PNG") == ".png"
