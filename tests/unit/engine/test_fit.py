"""The fit loop on a toy regression: learning, checkpoints, exact resume, hooks, NaN detection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from taokit.engine.checkpoint import load_file
from taokit.engine.fit import FitConfig, FitOutputs, FitParts, NonFiniteLoss, batch_images, fit
from taokit.engine.hooks import Hook, LoopState
from taokit.engine.schedules import ConstantLR


class Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.dropout = nn.Dropout(0.1)  # makes resume depend on the restored RNG state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(x))


def _data(sizes: tuple[int, ...] = (8, 8, 8, 5)) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    weights = torch.tensor([[1.0], [-2.0], [0.5]])
    batches = []
    for n in sizes:
        x = torch.randn(n, 3, generator=generator)
        batches.append((x, x @ weights + 0.3))
    return batches


class Recorder(Hook):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def before_epoch(self, state: LoopState) -> None:
        self.calls.append(("before_epoch", state.epoch))

    def after_validation(self, state: LoopState, metrics: dict[str, float]) -> None:
        assert not state.model.training  # validation runs in eval mode
        self.calls.append(("after_validation", state.epoch))

    def after_epoch(self, state: LoopState, kpi: dict[str, Any]) -> None:
        self.calls.append(("after_epoch", state.epoch))


def _parts(batches: list, hooks: list[Hook] | None = None, lr: float = 0.05) -> FitParts:
    torch.manual_seed(0)
    model = Toy()

    def compute_loss(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x, y = batch
        mse = nn.functional.mse_loss(net(x), y)
        return mse, {"mse": mse.detach()}

    def validate(net: nn.Module) -> dict[str, float]:
        x = torch.cat([b[0] for b in batches])
        y = torch.cat([b[1] for b in batches])
        return {"neg_mse": -float(nn.functional.mse_loss(net(x), y))}

    return FitParts(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=lr), schedule=ConstantLR(lr),
                    loader=batches, compute_loss=compute_loss, model_payload=lambda m: {"weights": m.state_dict()},
                    validate=validate, monitor="neg_mse", hooks=hooks or [])


def _config(epochs: int, interval: int = 1) -> FitConfig:
    return FitConfig(epochs=epochs, checkpoint_interval=interval, first_validation_epoch=1, validation_period=1,
                     log_every_steps=1)


def test_fit_learns_and_writes_models_and_checkpoints(tmp_path: Path) -> None:
    parts = _parts(_data())
    with torch.no_grad():
        before = parts.validate(parts.model.eval())["neg_mse"]  # type: ignore[misc]
    result = fit(parts, _config(6, interval=4), FitOutputs(tmp_path, "toy", model_extras={"spec": {"k": "v"}}),
                 torch.device("cpu"))
    assert result.epochs_run == 6 and result.final_metrics["neg_mse"] > before / 10  # the error fell tenfold
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch_004.pth", "epoch_006.pth"]
    saved = load_file(tmp_path / "weights" / "toy.pth")
    assert saved["kind"] == "model" and saved["spec"] == {"k": "v"} and saved["epoch"] == 6
    assert result.best_path == tmp_path / "weights" / "toy_best.pth" and result.best_path.is_file()
    assert result.images_per_s > 0


def test_resume_continues_exactly_where_an_uninterrupted_run_would_be(tmp_path: Path) -> None:
    whole = fit(_parts(_data()), _config(4), FitOutputs(tmp_path / "whole", "m"), torch.device("cpu"))
    fit(_parts(_data()), _config(2), FitOutputs(tmp_path / "split", "m"), torch.device("cpu"))
    resumed_parts = _parts(_data())
    resumed = fit(resumed_parts, _config(4), FitOutputs(tmp_path / "split", "m"), torch.device("cpu"))
    assert resumed.epochs_run == 4
    a = load_file(tmp_path / "whole" / "weights" / "m.pth")["weights"]
    b = load_file(tmp_path / "split" / "weights" / "m.pth")["weights"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert whole.final_metrics == resumed.final_metrics


def test_hooks_run_in_order_around_validation(tmp_path: Path) -> None:
    recorder = Recorder()
    fit(_parts(_data(), [recorder]), _config(2), FitOutputs(tmp_path, "m"), torch.device("cpu"))
    assert recorder.calls == [("before_epoch", 1), ("after_validation", 1), ("after_epoch", 1),
                              ("before_epoch", 2), ("after_validation", 2), ("after_epoch", 2)]


def test_a_non_finite_loss_stops_at_its_step_before_the_weights_change(tmp_path: Path) -> None:
    batches = _data()
    batches[2] = (batches[2][0], torch.full_like(batches[2][1], float("nan")))
    parts = _parts(batches)
    with pytest.raises(NonFiniteLoss, match=r"the loss became nan at epoch 1, step 3/4 \(terms: mse nan\)"):
        fit(parts, _config(2), FitOutputs(tmp_path, "m"), torch.device("cpu"))
    assert all(torch.isfinite(p).all() for p in parts.model.parameters())  # no NaN reached the weights
    assert not (tmp_path / "weights").exists()


def test_images_are_counted_per_batch() -> None:
    assert batch_images((torch.zeros(5, 3, 8, 8), torch.zeros(5))) == 5
    assert batch_images({"image": torch.zeros(2, 3), "label": [1, 2]}) == 2
    assert batch_images([[torch.zeros(7, 1)]]) == 7


def test_fit_config_has_no_hidden_defaults() -> None:
    with pytest.raises(ValueError, match="checkpoint_interval must be 0 or more"):
        FitConfig(epochs=3, checkpoint_interval=-1, first_validation_epoch=1, validation_period=1,
                  log_every_steps=10)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        FitConfig(epochs=0, checkpoint_interval=1, first_validation_epoch=1, validation_period=1, log_every_steps=1)


def test_checkpoint_interval_0_keeps_the_last_epoch_only(tmp_path: Path) -> None:
    """TAO's checkpoint_interval 0, decided here once for every task."""
    fit(_parts(_data()), _config(3, interval=0), FitOutputs(tmp_path, "toy"), torch.device("cpu"))
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch_003.pth"]


def _ema_config(epochs: int) -> FitConfig:
    return FitConfig(epochs=epochs, checkpoint_interval=1, first_validation_epoch=1, validation_period=1,
                     log_every_steps=1, ema_decay=0.9)


def test_the_weight_average_is_what_is_validated_and_saved(tmp_path: Path) -> None:
    from taokit.engine.weight_average import WeightAverage

    parts = _parts(_data())
    seen: list[nn.Module] = []
    validate = parts.validate

    def recording(net: nn.Module) -> dict[str, float]:
        seen.append(net)
        return validate(net)  # type: ignore[misc]

    parts.validate = recording
    fit(parts, _ema_config(3), FitOutputs(tmp_path, "m"), torch.device("cpu"))
    saved = load_file(tmp_path / "weights" / "m.pth")["weights"]
    raw = parts.model.state_dict()
    assert seen and all(net is not parts.model for net in seen)
    assert not torch.equal(saved["linear.weight"], raw["linear.weight"])  # the average, not the last step
    # replaying the average over the same steps gives the saved weights
    replay_parts = _parts(_data())
    average = WeightAverage(replay_parts.model, 0.9)
    for _ in range(3):
        for batch in _data():
            replay_parts.model.train()
            loss, _ = replay_parts.compute_loss(replay_parts.model, batch)
            replay_parts.optimizer.zero_grad()
            loss.backward()
            replay_parts.optimizer.step()
            average.update(replay_parts.model)
    torch.testing.assert_close(average.model.state_dict()["linear.weight"], saved["linear.weight"])


def test_resume_restores_the_weight_average(tmp_path: Path) -> None:
    fit(_parts(_data()), _ema_config(4), FitOutputs(tmp_path / "whole", "m"), torch.device("cpu"))
    fit(_parts(_data()), _ema_config(2), FitOutputs(tmp_path / "split", "m"), torch.device("cpu"))
    fit(_parts(_data()), _ema_config(4), FitOutputs(tmp_path / "split", "m"), torch.device("cpu"))
    a = load_file(tmp_path / "whole" / "weights" / "m.pth")["weights"]
    b = load_file(tmp_path / "split" / "weights" / "m.pth")["weights"]
    assert all(torch.equal(a[k], b[k]) for k in a)
