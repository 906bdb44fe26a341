"""inference: a model on images, a directory, a glob or a video; outputs under the results dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.actions.devices import device_for
from taokit.engine.status import FAILURE, STARTED, SUCCESS, StatusFile
from taokit.errors import UsageError
from taokit.results import Result
from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class InferenceRequest:
    results_dir: Path
    model_path: Path | None
    batch_size: int | None
    backend: str | None
    device: str | None
    strict: bool
    classmap: Path | None = None


def run(task_name: str, spec_path: Path | None, inputs: str, model_path: Path | None, session: Any, *,
        batch_size: int | None = None, backend: str | None = None, device: str | None = None,
        strict: bool = False, classmap: Path | None = None) -> Result:
    task = get_task(task_name)
    task.require("inference")
    if session.results_dir is None:
        raise UsageError("inference needs -r/--results_dir for its outputs")
    spec = task.load_spec(spec_path, None, session.overrides) if spec_path is not None else None
    request = InferenceRequest(session.results_dir, model_path, batch_size, backend, device_for(device, session),
                               strict, classmap)
    status = StatusFile(session.results_dir)
    status.write(STARTED, f"Starting {task.name} inference on {inputs}")
    try:
        result = task.inference(spec, inputs, request)
    except BaseException as err:
        status.write(FAILURE, str(err).splitlines()[0] if str(err) else type(err).__name__)
        raise
    status.write(SUCCESS, "Inference finished", kpi={k: v for k, v in result.data.items()
                                                      if isinstance(v, (int, float))})
    return result
