"""import: NVIDIA's published models (TAO 5 Keras .hdf5, deployable .onnx) as ordinary taokit model files.

An ONNX source is checked before anything is written: the same random images through ONNX Runtime and
through the imported network must agree to 1e-3 on every output, or the import fails.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from taokit.engine.status import status_job
from taokit.errors import ModelError, UsageError, already_exists
from taokit.requests import Session
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger("taokit.import")
PARITY_TOLERANCE = 1e-3


def run(task_name: str, source: Path, output_file: Path | None, session: Session, *, labels: Path | None = None,
        spec: Path | None = None, force: bool = False) -> Result:
    from taokit.engine.checkpoint import save_file
    from taokit.engine.model_files import default_output
    from taokit.hub.sources import fetch, is_remote
    from taokit.tasks.common.tao_import import read_labels

    task = get_task(task_name)
    task.require("import")
    named, source = source, fetch(source, "-m")
    if labels is None and is_remote(named) and (source.parent / "labels.txt").is_file():
        labels = source.parent / "labels.txt"  # NGC ships the class names beside the model; fetched with it
        log.info("class names from %s", labels)
    out = output_file or default_output(named, source, ".pth")
    if out.suffix != ".pth":
        raise UsageError(f"-o {out}: taokit model files end in .pth")
    if out.resolve() == source.resolve():
        raise UsageError(f"-o {out}: choose another file than the source")
    if out.exists() and not force:
        raise already_exists(out, "choose another -o")
    names = read_labels(labels) if labels is not None else None
    spec_model = task_specs.load_file(task, spec, overrides=session.overrides) if spec is not None else None
    lines = []
    with status_job(session.results_dir, f"Importing {source}", f"Imported model written to {out}") as outcome:
        imported = task.import_model(source, names, spec_model)
        if source.suffix.lower() == ".onnx":
            diffs = onnx_parity(source, imported.runnable)
            worst = max(diffs.values())
            outcome.kpi = {"max_abs_diff": worst}
            if worst > PARITY_TOLERANCE:
                raise ModelError(f"{source}: the imported network differs from the file by up to {worst:.3g} "
                                 f"(tolerance {PARITY_TOLERANCE}); its layout is not one taokit reads faithfully, "
                                 "nothing was written")
            lines.append("parity with ONNX Runtime: " + ", ".join(f"{n} max |diff| {d:.2g}" for n, d in diffs.items()))
        save_file(out, {**imported.payload, "imported": {"source": str(source),
                                                         "labels": str(labels) if labels else None}}, kind="model")
    arch = cast(Any, imported.runnable).arch  # an nn.Module attribute, which torch types as a Tensor
    lines.insert(0, f"imported {source.name}: {arch.arch}{arch.num_layers} (TAO template"
                    f"{', all_projections' if arch.all_projections else ''}), classes {', '.join(arch.class_names)}, "
                    f"input {arch.input_hw[0]}x{arch.input_hw[1]}")
    lines.append(f"model: {out}; {imported.next_steps}")
    return Result(lines=lines)


def onnx_parity(source: Path, model: nn.Module, batch: int = 2, seed: int = 0) -> dict[str, float]:
    """Max |difference| per output between ONNX Runtime on `source` and `model`, on the same random images.

    Outputs are paired by shape (DetectNet's heads differ: C vs 4C channels), whatever their names or order.
    """
    import onnxruntime as ort
    import torch

    h, w = cast(Any, model).arch.input_hw
    try:
        session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
        first = session.get_inputs()[0]
        static = first.shape[0] if isinstance(first.shape[0], int) and first.shape[0] > 0 else batch
        images = np.random.default_rng(seed).random((static, 3, h, w), dtype=np.float32)
        names = [o.name for o in session.get_outputs()]
        theirs = dict(zip(names, session.run(None, {first.name: images}), strict=True))
        with torch.no_grad():
            result = model.eval()(torch.from_numpy(images))
    except Exception as err:  # noqa: BLE001 - ONNX Runtime and torch raise many types; the file is the cause
        raise ModelError(f"{source}: could not run it to check the import ({str(err).splitlines()[0][:160]})") from None
    ours = [t.numpy() for t in (result if isinstance(result, (tuple, list)) else [result])]
    diffs: dict[str, float] = {}
    for name, value in theirs.items():
        match = [o for o in ours if o.shape == value.shape]
        if len(match) != 1:
            raise ModelError(f"{source}: output {name} {list(value.shape)} has no single counterpart in the imported "
                             f"network ({[list(o.shape) for o in ours]})")
        diffs[name] = float(np.abs(match[0] - value).max())
    return diffs
