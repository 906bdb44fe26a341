"""inference: a model on images, a directory, a glob or a video; outputs under the results dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taokit.actions.models import resolve_model
from taokit.engine.model_files import resolve_model_file
from taokit.engine.status import numeric, status_job
from taokit.errors import UsageError
from taokit.requests import InferenceRequest, Session
from taokit.results import Result
from taokit.runtime.devices import requested_device
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class InferenceOptions:
    """The flags of `inference` beyond the session's."""

    batch_size: int | None = None
    backend: str | None = None
    device: str | None = None
    strict: bool = False
    classmap: Path | None = None


def run(task_name: str, spec_path: Path | None, inputs: str, model_path: Path | None, session: Session,
        options: InferenceOptions = InferenceOptions()) -> Result:
    task = get_task(task_name)
    task.require("inference")
    if model_path is not None:
        model_path = resolve_model_file(model_path)  # before its recorded spec is looked for
    if session.results_dir is None:
        raise UsageError("inference needs an output directory: pass -o (or -r/--results_dir)")
    spec = task_specs.find(task, "inference", spec_path, session.overrides, model_path=model_path)
    model = resolve_model(task, spec, model_path, "inference")
    request = InferenceRequest(
        model, results_dir=session.results_dir, batch_size=options.batch_size, backend=options.backend,
        device=requested_device(options.device, session.gpus, session.gpu_index), strict=options.strict,
        classmap=options.classmap, inputs=inputs)
    with status_job(session.results_dir, f"Starting {task.name} inference on {inputs}",
                    "Inference finished") as outcome:
        result = task.inference(spec, request)
        outcome.kpi = numeric(result.data)
    return result
