"""prune: TAO-style structured channel pruning; the result reloads with weights_only=True and retrains."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from taokit.engine.model_files import resolve_model_file
from taokit.engine.status import status_job
from taokit.errors import UsageError, already_exists, did_you_mean
from taokit.optimize.plan import PruneTarget
from taokit.optimize.prune import PruneRules
from taokit.requests import Session
from taokit.results import Result, Table
from taokit.tasks.common.spec_record import read_spec_record
from taokit.tasks.registry import get_task

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class PruneOptions:
    rules: PruneRules = PruneRules()
    excluded_layers: tuple[str, ...] = ()
    force: bool = False


def _protected(target: PruneTarget, excluded: tuple[str, ...]) -> list[nn.Module]:
    """The modules to keep whole; -el takes taokit's module names or TAO's layer names (block_1a_conv_1)."""
    from taokit.models.tao_resnet import tao_layer_name

    modules = dict(target.model.named_modules())
    tao_names = {tao_layer_name(n.removeprefix("backbone.")): n for n in modules if n}
    excluded = tuple(tao_names.get(name, name) if name not in modules else name for name in excluded)
    for name in excluded:
        if name not in modules:
            raise UsageError(f"-el {name}: no such layer in the model{did_you_mean(name, [n for n in modules if n])}")
    return [modules[n] for n in (*target.protected, *excluded)]


def _shown(name: str, model: nn.Module) -> str:
    """TAO's layer name (block_1a_conv_1) for TAO-template layers, as TAO's prune logs and -el speak."""
    from taokit.models.tao_resnet import tao_layer_name

    arch = getattr(model, "arch", None)
    if getattr(arch, "template", "") == "tao" and getattr(arch, "arch", "") == "resnet":
        return tao_layer_name(name.removeprefix("backbone."))
    return name


def run(task_name: str, model_path: Path, output_file: Path | None, options: PruneOptions, session: Session, *,
        spec: Path | None = None) -> Result:
    from taokit.engine.checkpoint import save_file
    from taokit.optimize.prune import prune_model

    task = get_task(task_name)
    task.require("prune")
    model_path = resolve_model_file(model_path)
    out = output_file or model_path.with_name(f"{model_path.stem}_pruned.pth")
    if out.suffix != ".pth":
        out = out.with_suffix(out.suffix + ".pth") if out.suffix else out.with_suffix(".pth")
    if out.exists() and not options.force:
        raise already_exists(out, "choose another -o")
    rules = options.rules
    target = task.prune_target(model_path)
    recorded = read_spec_record(model_path)  # the pruned model keeps the spec it was trained with
    with status_job(session.results_dir, f"Pruning {model_path}", f"Pruned model written to {out}") as outcome:
        report = prune_model(target.model, target.example_input, _protected(target, options.excluded_layers), rules)
        save_file(out, {**target.payload(target.model), **({"spec": recorded[0]} if recorded else {}), "pruning": {
            "source": str(model_path), "threshold": rules.threshold, "equalization": rules.equalization,
            "granularity": rules.granularity, "min_filters": rules.min_filters, "normalizer": rules.normalizer,
            "pruning_ratio": report.pruning_ratio}}, kind="model")
        outcome.kpi = kpi = {"pruning_ratio": report.pruning_ratio, "param_count": report.params_after,
                             "param_count_before": report.params_before, "flops": report.flops_after,
                             "flops_before": report.flops_before}
    layers = Table("kept channels per layer", ["layer", "kept", "total"],
                   [[_shown(n, target.model), k, t] for n, k, t in report.layers])
    summary = Table("pruning", ["", "before", "after", "after/before"], [
        ["parameters", report.params_before, report.params_after, report.pruning_ratio],
        ["FLOPs", report.flops_before, report.flops_after, report.flops_after / max(report.flops_before, 1)]])
    return Result(tables=[layers, summary], data=kpi,
                  lines=[f"pruned model: {out} (pruning_ratio {report.pruning_ratio:.3f}); {target.retrain_hint}"])
