"""An exponential moving average of a model's weights: what gets validated and saved when it is on.

Small datasets make the last step's weights noisy; their running average is smoother and scores higher
(Ultralytics and timm train every detector with one). The decay ramps up over the first steps, as the
average of a few early steps would otherwise be dominated by the random initialisation.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    def decay_now(self) -> float:
        """`decay`, reached gradually: (1 + n) / (10 + n) after n updates, as TensorFlow's num_updates."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay_now()
        for average, current in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if average.dtype.is_floating_point:  # weights and BatchNorm statistics alike
                average.mul_(d).add_(current.detach(), alpha=1.0 - d)
            else:  # e.g. BatchNorm's step counter
                average.copy_(current)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])
