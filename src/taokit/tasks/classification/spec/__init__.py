"""Classification spec schemas: TAO's tf1 protobuf text, TAO's PyTorch YAML, and the one config both become."""

from taokit.tasks.classification.spec.mapping import from_pyt, from_tf1
from taokit.tasks.classification.spec.pyt import PytSpec
from taokit.tasks.classification.spec.tf1 import Tf1Spec
from taokit.tasks.classification.spec.unified import ClassificationSpec

__all__ = ["ClassificationSpec", "PytSpec", "Tf1Spec", "from_pyt", "from_tf1"]
