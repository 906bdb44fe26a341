"""`tao <task> inference` (also `infer`): run a model on images, a directory, a glob or a video."""

from dataclasses import replace
from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.errors import UsageError
from taokit.requests import Session

HELP = "Run a model on an image, a directory, a glob or a video; outputs go to -o (or -r)."


def register(app: typer.Typer, task: str) -> None:
    @session_command()
    def inference(
        session: Session,
        spec: o.Spec = None,
        inputs: str = typer.Option(..., "-i", "--image_dir", "--image-dir", "--image", "-d",
                                   help="An image, a directory, a glob pattern or a video file."),
        output_dir: Path | None = typer.Option(None, "-o", "--output_dir", "--output-dir",
                                                  help="Output directory (TLT's -o; the same as -r)."),
        model: o.Model = None,
        batch_size: o.BatchSize = None,
        backend: o.Backend = None,
        device: o.Device = None,
        strict: o.Strict = False,
        classmap: o.Classmap = None,
    ) -> None:
        from taokit.actions import inference as action

        if output_dir is not None and session.results_dir is not None and output_dir != session.results_dir:
            raise UsageError(f"-o {output_dir} and -r {session.results_dir} name two output directories; "
                             "give one of them")
        session = replace(session, results_dir=output_dir or session.results_dir)
        options = action.InferenceOptions(batch_size, backend, device, strict, classmap)
        print_result(action.run(task, spec, inputs, model, session, options))

    app.command("inference", help=HELP)(inference)
    app.command("infer", help=HELP, hidden=True)(inference)  # TAO 5's verb for some tasks
