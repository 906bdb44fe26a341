"""Entry point of `tao` and `taokit`: TAO's grammar (`tao [model|deploy|dataset] <task> <action>`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from taokit import __version__
from taokit.cli.commands import download as download_command
from taokit.cli.commands import validate as validate_command
from taokit.cli.errors import report_errors
from taokit.cli.grammar import DATASET_ACTIONS, DEPLOY_ACTIONS, describe_task, expand_multi_value_flags
from taokit.cli.session import remember_command_line
from taokit.cli.spec_app import app as spec_app
from taokit.cli.task_app import make_task_app
from taokit.tasks.registry import TASKS


def _version(value: bool) -> None:
    if value:
        typer.echo(f"taokit {__version__}")
        raise typer.Exit()


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The `tao` app. Given argv, only the task it names is built in full (Typer builds eagerly)."""
    group, wanted = _selected(argv)
    if argv is not None:
        remember_command_line(argv)
    app = typer.Typer(
        no_args_is_help=True, add_completion=False, rich_markup_mode=None,
        help="taokit: TAO Toolkit's workflow (train, evaluate, prune, export, INT8, inference) without Docker "
             "logins, keys or TF1. Grammar: tao [model|deploy|dataset] <task> <action> [flags] [key=value ...]",
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                     help="Print the version and exit."),
    ) -> None:
        """taokit command line."""

    model_group = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                              help="TAO 5 grammar: tao model <task> <action>.")
    deploy_group = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                               help="Engine-side actions: tao deploy <task> gen_trt_engine|evaluate|inference.")
    dataset_group = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                                help="Dataset tools: generate a demo dataset, convert datasets.")
    for task, entry in TASKS.items():
        listed = wanted in (None, "") or wanted in (task, *entry.aliases)  # help that shows this task
        about = describe_task(task) if listed else f"Actions of the {task} task."
        for name, hidden in [(task, False)] + [(a, True) for a in entry.aliases]:
            for parent, parent_name, actions in ((app, None, None), (model_group, "model", None),
                                                 (deploy_group, "deploy", DEPLOY_ACTIONS),
                                                 (dataset_group, "dataset", DATASET_ACTIONS)):
                built = wanted is None or (wanted == name and group == parent_name)
                sub = make_task_app(task, actions, about) if built else typer.Typer(help=about)
                parent.add_typer(sub, name=name, hidden=hidden)
    _add_generate(dataset_group)
    validate_command.register(dataset_group)
    download_command.register(model_group)
    app.add_typer(model_group, name="model")
    app.add_typer(deploy_group, name="deploy")
    app.add_typer(dataset_group, name="dataset")
    app.add_typer(spec_app, name="spec")
    app.command("info", help="Show version, tasks and the runtimes this machine has.")(info)
    return app


@report_errors
def info(verbose: bool = typer.Option(False, "-v", "--verbose", help="Show more detail.")) -> None:
    from taokit.cli.console import print_lines
    from taokit.runtime import inventory

    torch_i, ort_i, trt_i, docker_i = (inventory.torch_info(), inventory.onnxruntime_info(),
                                       inventory.tensorrt_info(), inventory.docker_info())
    ov_i = inventory.openvino_info()
    lines = [
        f"taokit {__version__}",
        *(f"task {name}{_aliases(entry.aliases)}: {describe_task(name)}" for name, entry in TASKS.items()),
        f"python: {sys.version.split()[0]}",
        f"torch: {torch_i.get('version', 'not installed')} (CUDA build {torch_i.get('cuda_build') or 'none'}); "
        f"CUDA devices: {', '.join(torch_i.get('cuda_devices') or []) or 'none'}",
        f"onnxruntime: {ort_i.get('version', 'not installed')}; providers: "
        f"{', '.join(ort_i.get('providers') or []) or 'none'}",
        f"openvino: {ov_i['version'] if ov_i.get('installed') else 'no'}"
        + (f" (CPU: {', '.join(ov_i['capabilities'])})" if ov_i.get("installed")
           else f" ({ov_i.get('error') or ov_i.get('hint')})"),
        f"cpu: {', '.join(inventory.cpu_isa()) or 'none of ' + ', '.join(inventory.ISA_FLAGS)}",
        f"tensorrt: {'yes ' + trt_i['version'] if trt_i.get('installed') else 'no'}"
        + ("" if trt_i.get("installed") else f" ({trt_i.get('error') or trt_i.get('hint')})"),
        f"docker: {'reachable, engine ' + docker_i['version'] if docker_i.get('reachable') else 'not reachable'}"
        + (f"; taokit images: {', '.join(docker_i['images']) or 'none (make docker-image-local)'}; GPUs in "
           f"containers: {'yes (nvidia runtime)' if docker_i['gpus'] else 'no'}" if docker_i.get("reachable") else "")
        + (f" ({docker_i.get('error')})" if verbose and not docker_i.get("reachable") else ""),
    ]
    print_lines(lines)


def _aliases(names: tuple[str, ...]) -> str:
    return f" (also {', '.join(names)})" if names else ""


def _add_generate(dataset_group: typer.Typer) -> None:
    @dataset_group.command("generate", help="Write a small synthetic dataset for a task (the demo data).")
    @report_errors
    def generate(
        task: str = typer.Argument(..., help=f"The task: {', '.join(TASKS)}."),
        output_dir: Path = typer.Option(..., "-o", "--output_dir", "--output-dir", help="Directory to create."),
        num_images: int | None = typer.Option(None, "-n", "--num_images", "--num-images", min=1,
                                                 help="Number of images (default: the demo size)."),
        seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same dataset."),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty directory."),
        verbose: bool = typer.Option(False, "-v", "--verbose"),
    ) -> None:
        from taokit.actions import generate as action
        from taokit.cli.console import print_result
        from taokit.cli.session import start_session
        from taokit.tasks.registry import canonical

        start_session(verbose=verbose)
        print_result(action.run(canonical(task), output_dir, num_images=num_images, seed=seed, force=force))


def _selected(argv: list[str] | None) -> tuple[str | None, str | None]:
    """(group, task name as typed) of `tao [model|deploy|dataset] <task> ...`; task None builds all."""
    if argv is None:
        return None, None
    words = [a for a in argv if not a.startswith("-")][:2]
    group = None
    if words and words[0] in ("model", "deploy", "dataset"):
        group, words = words[0], words[1:]
    return group, (words[0] if words else "")


def main(argv: list[str] | None = None) -> None:
    args = expand_multi_value_flags(list(sys.argv[1:] if argv is None else argv))
    build_app(args)(args=args, prog_name=Path(sys.argv[0]).name or "tao")


if __name__ == "__main__":
    main()
