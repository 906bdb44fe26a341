"""`tao <task> tune_postprocess`: the best clustering for a trained model, without retraining."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("tune_postprocess", help="Search the post-processing (clustering) for the best validation "
                                          "metric (detectnet: AP per class; lanenet: TuSimple accuracy); "
                                          "writes the tuned train and inference specs to -r.")
    @session_command()
    def tune_postprocess(
        session: Session,
        spec: o.Spec = None,
        model: o.Model = None,
        batch_size: o.BatchSize = None,
        image_dir: Path | None = typer.Option(None, "-i", "--image_dir", "--image-dir",
                                                 help="Search on these images instead of the spec's."),
        label_dir: Path | None = typer.Option(None, "-l", "--label_dir", "--label-dir",
                                                 help="Labels for --image_dir."),
        backend: o.Backend = None,
        device: o.Device = None,
        strict: o.Strict = False,
    ) -> None:
        from taokit.actions import tune_postprocess as action
        from taokit.actions.evaluate import EvaluateOptions

        options = EvaluateOptions(batch_size, image_dir, label_dir, False, backend, device, strict)
        print_result(action.run(task, spec, model, session, options))
