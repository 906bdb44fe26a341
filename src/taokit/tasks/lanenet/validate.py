"""`tao dataset validate lanenet -e SPEC`: the lane labels as training will read them, before a long run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from taokit.errors import DataError
from taokit.results import Result, Table
from taokit.tasks.common.dataset_check import in_both_splits, save_histograms, scan_images
from taokit.tasks.lanenet.data import LaneReport
from taokit.tasks.lanenet.spec import LaneNetExperiment
from taokit.tasks.lanenet.spec.convert import LaneConvertSpec
from taokit.tasks.lanenet.training import load_splits, read_sources


def validate_dataset(spec: LaneNetExperiment | LaneConvertSpec, out: Path | None) -> Result:
    """From the training spec (-e: training and validation sources) or a dataset_convert spec (-d)."""
    if isinstance(spec, LaneConvertSpec):
        report = LaneReport()
        train, val = read_sources(spec.data_sources, spec.image_extension, report), []
        if not train:
            raise DataError("no labelled images: check data_sources of the dataset_convert spec")
    else:
        train, val, report = load_splits(spec)
    scan = scan_images(s.image for s in [*train, *val])
    problems = [*scan.problems(), *report.warnings(), *in_both_splits((s.image for s in train), (s.image for s in val))]
    if not val and isinstance(spec, LaneNetExperiment):
        problems.append("no validation images: training will not validate (set dataset_config.validation_data_sources)")
    lines = [f"training: {len(train)} images, validation: {len(val)} images", f"{scan.images} image(s) decoded",
             *problems]
    limit = spec.postprocessing_config.max_lanes if isinstance(spec, LaneNetExperiment) else 5  # TuSimple's
    per_image = [[len(s.lanes) for s in samples] for samples in (train, val)]
    if max(per_image[0], default=0) > limit:
        lines.append(f"some images have more than {limit} lanes (postprocessing_config.max_lanes): "
                     "inference will keep only the strongest")
    empty = sum(1 for n in per_image[0] if n == 0)
    if empty:
        lines.append(f"{empty} training image(s) have no lane (they teach the background only)")
    if out is not None:
        lengths = [float(len(lane)) for s in train for lane in s.lanes]
        save_histograms(out / "lanes.png", {"lanes per image": [float(n) for n in per_image[0]],
                                            "points per lane": lengths}, f"{len(lengths)} labelled lanes")
        lines.append(f"lanes per image and points per lane: {out / 'lanes.png'}")
    counts = [Counter(n) for n in per_image]
    table = Table("images by number of lanes", ["lanes", "training", "validation"],
                  [[k, counts[0][k], counts[1][k]] for k in sorted(set(counts[0]) | set(counts[1]))])
    return Result(lines=lines, tables=[table], data={**scan.data(), "problems": problems})
