"""Shared test helpers: the CLI runner, the shared TAO spec fixtures, tiny synthetic data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TAOKIT_SHARED", REPO.parent / "shared"))
TAO_SPECS = SHARED / "fixtures" / "tao_specs"


@pytest.fixture(scope="session")
def tao_specs() -> Path:
    if not TAO_SPECS.is_dir():
        pytest.skip(f"TAO spec fixtures not found at {TAO_SPECS} (set TAOKIT_SHARED)")
    return TAO_SPECS


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str | Path) -> CliResult:
    """Run the real `tao` command in-process, as a user would type it."""
    from typer.testing import CliRunner

    from taokit.cli.grammar import expand_multi_value_flags
    from taokit.cli.main import build_app

    argv = expand_multi_value_flags([str(a) for a in args])
    result = CliRunner().invoke(build_app(argv), argv, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli():
    return run_cli
