"""`tao <task> dataset_convert`: KITTI/COCO/YOLO data into taokit shards, split into folds."""

from pathlib import Path

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("dataset_convert", help="Convert a labelled dataset into shards for training.")
    @report_errors
    def dataset_convert(
        spec: Path = typer.Option(..., "-d", "--dataset_export_spec", "--dataset-export-spec", "-e",
                                  help="The dataset_convert spec (kitti_config, coco_config or yolo_config)."),
        output_filename: str = typer.Option(..., "-o", "--output_filename", "--output-filename",
                                            help="Prefix of the shard files, e.g. data/tfrecords/kitti_trainval/kitti"),
        validation_fold: int | None = typer.Option(None, "-f", "--validation_fold", "--validation-fold",
                                                      help="Accepted for TAO compatibility."),
        results_dir: o.ResultsDir = None,
        key: o.Key = None,
        strict: o.Strict = False,
        gpus: o.Gpus = 1,
        gpu_index: o.GpuIndex = None,
        use_amp: o.UseAmp = False,
        log_file: o.LogFile = None,
        verbose: o.Verbose = False,
        overrides: o.Overrides = None,
    ) -> None:
        from taokit.actions import dataset_convert as action

        session = start_session(results_dir=results_dir, overrides=overrides, key=key, gpus=gpus,
                                gpu_index=gpu_index, use_amp=use_amp, verbose=verbose, log_file=log_file)
        print_result(action.run(task, spec, output_filename, session, strict=strict))
