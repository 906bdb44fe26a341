"""tune_postprocess: the best post-processing for a trained model on the validation data, no retraining."""

from __future__ import annotations

from pathlib import Path

from taokit.actions.evaluate import EvaluateOptions
from taokit.actions.models import resolve_model
from taokit.engine.model_files import resolve_model_file
from taokit.engine.status import numeric, status_job
from taokit.errors import UsageError
from taokit.requests import EvaluateRequest, Session
from taokit.results import Result
from taokit.runtime.devices import requested_device
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


def run(task_name: str, spec_path: Path | None, model_path: Path | None, session: Session,
        options: EvaluateOptions = EvaluateOptions()) -> Result:
    task = get_task(task_name)
    task.require("tune_postprocess")
    if session.results_dir is None:
        raise UsageError("tune_postprocess needs -r/--results_dir for the tuned specs it writes")
    if model_path is not None:
        model_path = resolve_model_file(model_path)
    spec = task_specs.load(task, "tune_postprocess", spec_path, session.overrides, model_path=model_path)
    model = resolve_model(task, spec, model_path, "tune_postprocess")
    request = EvaluateRequest(
        model, results_dir=session.results_dir, batch_size=options.batch_size, image_dir=options.image_dir,
        label_dir=options.label_dir, use_training_set=options.use_training_set, backend=options.backend,
        device=requested_device(options.device, session.gpus, session.gpu_index), strict=options.strict)
    with status_job(session.results_dir, f"Searching the post-processing of {model}",
                    "Post-processing search finished") as outcome:
        result = task.tune_postprocess(spec, request)
        outcome.kpi = numeric(result.data)
    return result
