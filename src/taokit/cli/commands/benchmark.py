"""`tao <task> benchmark`: latency and throughput of a model per backend and precision."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("benchmark", help="Measure latency and throughput of a model (.pth, .onnx, .engine).")
    @session_command(overrides=False)
    def benchmark(
        session: Session,
        model: list[Path] = typer.Option(..., "-m", "--model", "--model_path",
                                         help="Model file(s): .pth, .onnx or .engine; repeat -m to compare."),
        batch_size: int = typer.Option(1, "-b", "--batch_size", "--batch-size", min=1),
        runs: int = typer.Option(20, "--runs", min=1, help="Timed runs after warm-up."),
        warmup: int = typer.Option(3, "--warmup", min=0, help="Untimed warm-up runs."),
        backend: list[str] | None = typer.Option(
            None, "--backend", help="Runtime(s): torch, onnxruntime, openvino, tensorrt or auto; repeat to compare "
                                    "runtimes on the same file in one table (default: from the suffix)."),
        device: o.Device = None,
        threads: int = typer.Option(0, "--threads", min=0, help="CPU threads (0: all cores)."),
        min_images_per_s: float | None = typer.Option(
            None, "--min_images_per_s", "--min-images-per-s", min=0.0,
            help="Quality gate: exit 3 when a model runs slower than this (images/s)."),
    ) -> None:
        from taokit.actions import benchmark as action
        from taokit.actions.gates import check_at_least

        result = action.run(task, model, session, batch_size=batch_size, runs=runs, warmup=warmup,
                            backends=list(backend or []), device=device, threads=threads)
        print_result(result)
        check_at_least("images/s:", {m: d["images_per_s"] for m, d in result.data.items()}, min_images_per_s,
                       "--min_images_per_s")
