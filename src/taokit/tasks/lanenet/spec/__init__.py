"""LaneNet spec schemas: the experiment spec (train, evaluate, export, prune) and the inference spec."""

from taokit.tasks.lanenet.spec.experiment import LaneNetExperiment
from taokit.tasks.lanenet.spec.inference import LaneNetInferenceSpec

__all__ = ["LaneNetExperiment", "LaneNetInferenceSpec"]
