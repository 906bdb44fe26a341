"""Mutated TAO specs (deleted braces, misspelt keys, wrong types, truncation) give one-line errors only."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from taokit.errors import SpecError
from taokit.spec import parse_spec_source, task_specs
from taokit.tasks.registry import get_task
from taokit_testing import line_of

ERROR_RE = re.compile(r"^[^\n]+:\d+(:\d+)?: [^\n]+$")
FIELD_RE = re.compile(r"^(\s*)([a-z_]{6,})(\s*[:{])", re.M)


def _misspell(text: str, rng: random.Random) -> tuple[str, str]:
    matches = list(FIELD_RE.finditer(text))
    m = rng.choice(matches)
    name = m.group(2)
    i = rng.choice([k for k in range(1, len(name) - 2) if name[k] != name[k + 1]])
    bad = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return text[: m.start(2)] + bad + text[m.end(2) :], bad


def _mutations(text: str, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    braces = [i for i, c in enumerate(text) if c in "{}"]
    for _ in range(6):
        i = rng.choice(braces)
        out.append(("brace", text[:i] + text[i + 1 :]))
    for _ in range(6):
        out.append(("truncate", text[: rng.randrange(1, len(text) - 1)]))
    numbers = [m for m in re.finditer(r":\s*(-?\d[\d.e-]*)", text)]
    for _ in range(6):
        m = rng.choice(numbers)
        out.append(("type", text[: m.start(1)] + rng.choice(['"abc"', "abc", "{ }", "1.5.5"]) + text[m.end(1) :]))
    strings = [m for m in re.finditer(r':\s*("[^"]*")', text)]
    for _ in range(3):
        m = rng.choice(strings)
        out.append(("type", text[: m.start(1)] + "12" + text[m.end(1) :]))
    for _ in range(6):
        i = rng.randrange(len(text))
        out.append(("garbage", text[:i] + rng.choice(["@", "}", ":", '"', "{ {", "[", "\x00"]) + text[i:]))
    return out


def _fixtures(tao_specs: Path) -> list[Path]:
    return sorted(p for p in tao_specs.iterdir() if p.suffix in (".txt", ".cfg"))


def _load(path: Path) -> None:
    if path.name.startswith("detectnet"):
        task_specs.load_file(get_task("detectnet"), path)
    else:
        parse_spec_source(path)


def test_mutated_specs_fail_with_one_line_errors(tao_specs: Path, tmp_path: Path) -> None:
    rng = random.Random(1234)
    failures = 0
    total = 0
    for fixture in _fixtures(tao_specs):
        text = fixture.read_text()
        for kind, mutated in _mutations(text, rng):
            target = tmp_path / fixture.name
            target.write_text(mutated)
            total += 1
            try:
                _load(target)
            except SpecError as err:
                failures += 1
                assert ERROR_RE.match(str(err)), f"{kind}: not a one-line error with a line: {err!s}"
    assert total > 150
    assert failures > total * 0.6  # most mutations break the spec; all of those were reported cleanly


def test_misspelt_keys_are_named_with_a_suggestion(tao_specs: Path, tmp_path: Path) -> None:
    rng = random.Random(7)
    for fixture in _fixtures(tao_specs):
        if not fixture.name.startswith("detectnet"):
            continue
        for _ in range(10):
            mutated, bad = _misspell(fixture.read_text(), rng)
            target = tmp_path / fixture.name
            target.write_text(mutated)
            with pytest.raises(SpecError) as info:
                task_specs.load_file(get_task("detectnet"), target)
            msg = str(info.value)
            assert f"unknown field '{bad}'" in msg and "did you mean" in msg, msg
            assert ERROR_RE.match(msg)


def test_cli_reports_a_broken_spec_without_traceback(tao_specs: Path, tmp_path: Path, cli) -> None:
    text = (tao_specs / "detectnet_v2_train_resnet18_kitti.txt").read_text()
    bad = tmp_path / "spec.txt"
    bad.write_text(text.replace("batch_size_per_gpu", "bach_size_per_gpu"))
    result = cli("spec", "check", bad, "--task", "detectnet_v2")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    line = line_of(bad, "bach_size_per_gpu")
    assert lines == [f"error: {bad}:{line}:3: training_config: unknown field 'bach_size_per_gpu' "
                     "(did you mean 'batch_size_per_gpu'?)"]
