"""Progress: a bar on a terminal, plain log lines elsewhere (CI, nohup, a dropped SSH session)."""

from __future__ import annotations

import logging

import pytest

from taokit.engine.progress import Progress, is_interactive


def test_plain_lines_without_a_terminal(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("TAOKIT_PLAIN", "1")
    assert not is_interactive()
    progress = Progress(3, "epoch 1/2", log_every_s=0.0)
    progress.postfix = "loss 0.5"
    with caplog.at_level(logging.INFO, logger="taokit.progress"):
        assert list(progress(iter([1, 2, 3]))) == [1, 2, 3]
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("epoch 1/2 1/3 (") and lines[0].endswith("loss 0.5")
    assert lines[-1].startswith("epoch 1/2 3/3 done in")


def test_ci_and_pipes_are_not_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAOKIT_PLAIN", raising=False)
    monkeypatch.setenv("CI", "true")
    assert not is_interactive()
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert is_interactive()


def test_disabled_progress_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="taokit.progress"):
        assert list(Progress(2, "x", enabled=False, log_every_s=0.0)(iter("ab"))) == ["a", "b"]
    assert not caplog.records
