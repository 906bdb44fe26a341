"""TAO's command grammar: which actions each group offers, and multi-value flags."""

from __future__ import annotations

DEPLOY_ACTIONS = ("gen_trt_engine", "evaluate", "inference")
DATASET_ACTIONS = ("dataset_convert",)

# TAO's argparse takes these with nargs='+' (`--gpu_index 0 1`); Typer wants one flag per value.
_MULTI_VALUE_FLAGS = {"--gpu_index", "--gpu-index", "-el", "--excluded_layers", "--excluded-layers"}


def expand_multi_value_flags(argv: list[str]) -> list[str]:
    """Rewrite `--gpu_index 0 1` as `--gpu_index 0 --gpu_index 1` (same for -el/--excluded_layers)."""
    out: list[str] = []
    flag: str | None = None
    has_value = False
    for arg in argv:
        if flag and not arg.startswith("-") and "=" not in arg:
            if has_value:
                out.append(flag)
            out.append(arg)
            has_value = True
            continue
        flag = arg if arg in _MULTI_VALUE_FLAGS else None
        has_value = False
        out.append(arg)
    return out


def describe_task(name: str) -> str:
    """One line for help texts: the task's summary and whether every action is there yet."""
    from taokit.tasks.base import ACTION_METHODS
    from taokit.tasks.registry import get_task

    task = get_task(name)
    missing = sorted({*ACTION_METHODS, "default_specs"} - task.implemented)
    status = "complete" if not missing else (
        "not available yet" if not task.implemented else f"not yet: {', '.join(missing)}")
    return f"[{status}] {task.summary}"
