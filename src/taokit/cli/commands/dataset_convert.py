"""`tao <task> dataset_convert`: KITTI/COCO/YOLO data into taokit shards, split into folds."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("dataset_convert", help="Convert a labelled dataset into shards for training.")
    @session_command()
    def dataset_convert(
        session: Session,
        spec: Path = typer.Option(..., "-d", "--dataset_export_spec", "--dataset-export-spec", "-e",
                                  help="The dataset_convert spec (kitti_config, coco_config or yolo_config)."),
        output_filename: str = typer.Option(..., "-o", "--output_filename", "--output-filename",
                                            help="Prefix of the shard files, e.g. data/tfrecords/kitti_trainval/kitti"),
        validation_fold: int | None = typer.Option(None, "-f", "--validation_fold", "--validation-fold",
                                                      help="Accepted for TAO compatibility."),
        strict: o.Strict = False,
    ) -> None:
        from taokit.actions import dataset_convert as action

        print_result(action.run(task, spec, output_filename, session, strict=strict))
