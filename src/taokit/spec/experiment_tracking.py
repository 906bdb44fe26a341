"""Spec sections for experiment trackers (Weights & Biases, ClearML) that TAO's specs carry.

taokit logs to TensorBoard and status.json only; these sections load so that TAO specs load unchanged,
and every task marks them `ignored` so that a spec setting one gets the one-line warning.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from taokit.spec.base import SpecModel
from taokit.spec.write import PROTO_ENUM

NOT_TRACKED = "taokit logs to TensorBoard and status.json only"


class WandbConfig(SpecModel):
    """TAO's protobuf `WandBConfig` (DetectNet_v2, classification_tf1)."""

    enabled: bool = False
    key: str = ""
    project: str = ""
    entity: str = ""
    reinit: bool = False
    name: str = ""
    tags: list[str] = Field(default_factory=list)
    wandb_dir: str = ""
    notes: str = ""
    mode: Annotated[Literal["ONLINE", "OFFLINE", "DISABLED"], PROTO_ENUM] = "ONLINE"


class ClearmlConfig(SpecModel):
    """TAO's protobuf `ClearMLConfig`."""

    project: str = ""
    task: str = ""
    tags: list[str] = Field(default_factory=list)
    reuse_last_task_id: bool = False
    continue_last_task: bool = False
    deferred_init: bool = False


class PytWandbConfig(SpecModel):
    """The `wandb` section of TAO's PyTorch (Hydra) specs."""

    enable: bool = True
    project: str = "TAO Toolkit"
    entity: str = ""
    tags: list[str] = Field(default_factory=list)
    reinit: bool = False
    sync_tensorboard: bool = False
    save_code: bool = False
    name: str = ""
