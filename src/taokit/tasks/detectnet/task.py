"""The detectnet task: DetectNet_v2 specs, model, targets, clustering and metrics behind the Task protocol."""

from __future__ import annotations

from taokit.tasks.base import Task
from taokit.tasks.detectnet.spec import DatasetExportConfig, DetectNetExperiment, DetectNetInferenceSpec


class DetectNetTask(Task):
    name = "detectnet"
    spec_kinds = {
        "experiment": DetectNetExperiment,
        "dataset_convert": DatasetExportConfig,
        "inference": DetectNetInferenceSpec,
    }
    action_spec_kinds = {
        "dataset_convert": "dataset_convert",
        "train": "experiment",
        "evaluate": "experiment",
        "prune": "experiment",
        "export": "experiment",
        "gen_trt_engine": "experiment",
    }
    implemented = frozenset({"default_specs"})
    default_specs_package = "taokit.tasks.detectnet.default_specs"
