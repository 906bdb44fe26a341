"""DetectNet_v2 spec schemas: the experiment, dataset_convert and inference specs."""

from taokit.tasks.detectnet.spec.convert import DatasetExportConfig
from taokit.tasks.detectnet.spec.experiment import DetectNetExperiment
from taokit.tasks.detectnet.spec.inference import DetectNetInferenceSpec

__all__ = ["DatasetExportConfig", "DetectNetExperiment", "DetectNetInferenceSpec"]
