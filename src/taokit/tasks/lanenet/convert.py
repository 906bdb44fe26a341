"""`dataset_convert` for LaneNet: TuSimple, CULane or instance-mask labels into one TuSimple JSON-lines file.

TuSimple labels are copied as they are; other layouts are sampled at TuSimple's rows (160..710 step 10 at
720 px, scaled to each image's height). `raw_file` is relative to the sources' common image directory,
which the output names for `image_directory_path`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from taokit.engine.files import atomic_write_text
from taokit.errors import DataError
from taokit.results import Result, Table
from taokit.tasks.lanenet.data import TUSIMPLE_NO_POINT, LaneReport, LaneSample, read_lane_dataset
from taokit.tasks.lanenet.spec.convert import LaneConvertSpec

log = logging.getLogger("taokit.lanenet")


def tusimple_line(sample: LaneSample, root: Path) -> dict[str, object]:
    raw_file = os.path.relpath(sample.image, root)
    if sample.h_samples is not None and sample.tusimple_lanes is not None:
        return {"lanes": [list(x) for x in sample.tusimple_lanes], "h_samples": list(sample.h_samples),
                "raw_file": raw_file}
    with Image.open(sample.image) as image:
        height = image.height
    rows = [int(round(y * height / 720)) for y in range(160, 720, 10)]
    lanes = []
    for lane in sample.lanes:
        xs = np.interp(rows, lane[:, 1], lane[:, 0])
        inside = (np.asarray(rows) >= lane[:, 1].min()) & (np.asarray(rows) <= lane[:, 1].max())
        lanes.append([round(float(x), 1) if k else TUSIMPLE_NO_POINT for x, k in zip(xs, inside, strict=True)])
    return {"lanes": lanes, "h_samples": rows, "raw_file": raw_file}


def convert_dataset(spec: LaneConvertSpec, output_prefix: Path) -> Result:
    report = LaneReport()
    samples: list[LaneSample] = []
    for source in spec.data_sources:
        samples += read_lane_dataset(Path(source.image_directory_path), Path(source.label_directory_path),
                                     spec.image_extension, report)
    if not samples:
        raise DataError("no labelled images in the data_sources")
    for warning in report.warnings():
        log.warning(warning)
    root = Path(os.path.commonpath([str(Path(s.image_directory_path).resolve()) for s in spec.data_sources]))
    for sample in samples:
        if not sample.image.resolve().is_relative_to(root):
            raise DataError(f"{sample.image}: outside the common image directory {root}")
    out = output_prefix.with_name(output_prefix.name + ".json")
    text = "".join(json.dumps(tusimple_line(replace(s, image=s.image.resolve()), root)) + "\n" for s in samples)
    atomic_write_text(out, text)
    return Result(lines=[f"wrote {len(samples)} TuSimple label line(s) to {out}",
                         f"use it as label_directory_path {out.parent} with image_directory_path {root}"],
                  tables=[Table("lanes", ["images", "lanes"], [[report.images, report.lanes]])],
                  data={"images": report.images, "lanes": report.lanes})
