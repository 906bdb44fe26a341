"""The classification task: ImageFolder data, torchvision backbones, TAO's tf1 and PyTorch specs."""

from __future__ import annotations

from taokit.spec.base import SpecModel
from taokit.tasks.base import Task
from taokit.tasks.classification.spec import ClassificationSpec, PytSpec, Tf1Spec, from_pyt, from_tf1


class ClassificationTask(Task):
    name = "classification"
    spec_kinds = {"tf1": Tf1Spec, "pyt": PytSpec, "taokit": ClassificationSpec}

    def adapt_spec(self, spec: SpecModel, kind: str) -> SpecModel:
        if isinstance(spec, Tf1Spec):
            return from_tf1(spec)
        if isinstance(spec, PytSpec):
            return from_pyt(spec)
        return spec
