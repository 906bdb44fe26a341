"""`tao <task> import`: NVIDIA's TAO 5 .hdf5 or deployable .onnx as a taokit model file."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("import", help="Import NVIDIA's published model (TAO 5 Keras .hdf5 or deployable .onnx, e.g. "
                                "resnet34_peoplenet.onnx) as a taokit .pth to evaluate, fine-tune, prune and export.")
    @session_command()
    def import_model(
        session: Session,
        model: o.RequiredModel,
        output_file: o.OutputFile = None,
        labels: Path | None = typer.Option(None, "--labels", "--labels_file",
                                           help="NGC's labels.txt: one class per line, in network order."),
        spec: o.Spec = None,
        force: o.Force = False,
    ) -> None:
        from taokit.actions import import_model as action

        print_result(action.run(task, model, output_file, session, labels=labels, spec=spec, force=force))
