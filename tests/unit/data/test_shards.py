"""taokit's JSON Lines shard format: TAO file names, round trip, grouping by fold, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from taokit.data.records import BoxLabel, ImageRecord
from taokit.data.shards import existing_shards, read_shards, shard_fold, shard_name, write_shard
from taokit.errors import DataError

RECORD = ImageRecord(image="image_2/000001.png", frame_id="image_2/000001", width=32, height=24,
                     boxes=(BoxLabel("car", 1.0, 2.0, 10.5, 20.0, truncation=0.5, occlusion=2, alpha=-1.5),
                            BoxLabel("Ünïcode", 0.0, 0.0, 1.0, 1.0)))


def test_shard_names_match_tao() -> None:
    assert shard_name("out/kitti", 0, 2, 3, 10) == Path("out/kitti-fold-000-of-002-shard-00003-of-00010")
    assert shard_name("out/kitti", 1, 2, 0, 0) == Path("out/kitti-fold-001-of-002")
    assert shard_name("out/kitti", 0, 0, 4, 5) == Path("out/kitti-shard-00004-of-00005")
    assert shard_name("out/kitti", 0, 0, 0, 0) == Path("out/kitti")
    assert shard_fold(Path("x-fold-001-of-002-shard-00000-of-00010")) == 1
    assert shard_fold(Path("x-fold-003-of-005")) == 3
    assert shard_fold(Path("x-shard-00000-of-00010")) is None


def test_round_trip_grouped_by_fold(tmp_path: Path) -> None:
    other = ImageRecord(image="image_2/000002.png", frame_id="image_2/000002", width=8, height=8)
    write_shard(shard_name(tmp_path / "k", 0, 2, 0, 0), [RECORD])
    write_shard(shard_name(tmp_path / "k", 1, 2, 0, 0), [other, RECORD])
    folds = read_shards(str(tmp_path / "*"))
    assert folds == {0: [RECORD], 1: [other, RECORD]}
    assert read_shards(tmp_path) == folds  # a folder means every file in it
    write_shard(tmp_path / "plain", [other])
    assert read_shards(tmp_path / "plain") == {None: [other]}
    assert existing_shards(tmp_path / "k") == sorted(tmp_path.glob("k-fold-*"))


def test_glob_matching_nothing_says_what_was_searched(tmp_path: Path) -> None:
    pattern = str(tmp_path / "nothing" / "*")
    with pytest.raises(DataError, match=re.escape(f"{pattern}: no shard files match")):
        read_shards(pattern)


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    shard = tmp_path / "s-fold-000-of-001"
    write_shard(shard, [RECORD])
    shard.write_text(shard.read_text() + "\n{not json\n")
    with pytest.raises(DataError, match=rf"{shard}:3: not valid JSON"):
        read_shards(shard)
    shard.write_text('{"image": "a.png"}\n')
    with pytest.raises(DataError, match=rf"{shard}:1: not a taokit shard record"):
        read_shards(shard)
    shard.write_bytes(b"\x0a\x00\xff\xfe binary tfrecord")
    with pytest.raises(DataError, match="not a taokit shard"):
        read_shards(shard)
