"""default_specs: write a task's commented default spec files without overwriting the user's."""

from __future__ import annotations

from pathlib import Path

from taokit.engine.files import atomic_write_text
from taokit.errors import already_exists
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


def run(task_name: str, results_dir: Path, force: bool = False) -> Result:
    task = get_task(task_name)
    task.require("default_specs")
    files = task_specs.default_files(task)
    targets = {results_dir / name: text for name, text in sorted(files.items())}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise already_exists(existing[0], "choose another -r")
    results_dir.mkdir(parents=True, exist_ok=True)
    for path, text in targets.items():
        atomic_write_text(path, text)
    return Result(lines=[f"wrote {p}" for p in targets])
