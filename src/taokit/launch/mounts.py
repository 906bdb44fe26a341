"""What a containerised job must see: TAO's ~/.tao_mounts.json, and the host paths a command line names.

Paths are mounted at the same path inside the container (identity mounts), so nothing needs translating
and every message names the paths the user typed. A mounts file may map a host folder elsewhere (TAO's
`source` -> `destination`); those paths are translated on the way in (argv and a copy of the spec) and
back on the way out (the job's output).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taokit.errors import UsageError

MOUNTS_KEYS = {"Mounts", "Envs", "DockerOptions", "runtime", "image"}  # the last two are taokit's
DOCKER_OPTIONS = {"user", "ports", "shm_size", "ulimits", "privileged", "network", "tty"}
NEVER_MOUNTED = {Path("/"), Path("/proc"), Path("/sys"), Path("/dev"), Path("/usr"), Path("/etc")}


@dataclass(frozen=True)
class Mount:
    source: Path
    destination: Path


@dataclass
class MountsFile:
    mounts: list[Mount] = field(default_factory=list)
    envs: dict[str, str] = field(default_factory=dict)
    docker_options: dict[str, Any] = field(default_factory=dict)
    runtime: str | None = None
    image: str | None = None
    path: Path | None = None


def mounts_file_path() -> Path:
    return Path(os.environ.get("LAUNCHER_MOUNTS") or Path.home() / ".tao_mounts.json").expanduser()


def read_mounts_file(path: Path | None = None) -> MountsFile:
    """TAO's mounts file, validated as TAO's launcher does (unknown keys and missing sources are errors)."""
    path = path or mounts_file_path()
    if not path.is_file():
        return MountsFile()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise UsageError(f"{path}: not a readable JSON mounts file ({err})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object with Mounts, Envs and DockerOptions")
    unknown = set(data) - MOUNTS_KEYS
    if unknown:
        raise UsageError(f"{path}: unknown key '{sorted(unknown)[0]}'; keys are {', '.join(sorted(MOUNTS_KEYS))}")
    mounts = []
    for entry in data.get("Mounts", []):
        source = Path(os.path.realpath(os.path.expanduser(entry["source"])))
        if not source.exists():
            raise UsageError(f"{path}: mount source {entry['source']} does not exist")
        mounts.append(Mount(source, Path(entry["destination"])))
    options = data.get("DockerOptions", {})
    bad = set(options) - DOCKER_OPTIONS
    if bad:
        raise UsageError(f"{path}: DockerOptions.{sorted(bad)[0]} is not one of {', '.join(sorted(DOCKER_OPTIONS))}")
    envs = {e["variable"]: str(e["value"]) for e in data.get("Envs", [])}
    return MountsFile(mounts, envs, options, data.get("runtime"), data.get("image"), path)


class PathMap:
    """Host <-> container paths: the mounts file's mappings, identity for everything else."""

    def __init__(self, mounts: list[Mount]) -> None:
        self.mounts = sorted((m for m in mounts if m.source != m.destination),
                             key=lambda m: -len(str(m.source)))

    def to_container(self, text: str) -> str:
        for m in self.mounts:
            text = _replace_prefix(text, str(m.source), str(m.destination))
        return text

    def to_host(self, text: str) -> str:
        for m in sorted(self.mounts, key=lambda m: -len(str(m.destination))):
            text = text.replace(str(m.destination), str(m.source))
        return text

    def covers(self, path: Path) -> bool:
        return any(path == m.source or m.source in path.parents for m in self.mounts)


def _replace_prefix(token: str, old: str, new: str) -> str:
    value = token.split("=", 1)[1] if "=" in token and not token.startswith("-") else token
    if value == old or value.startswith(old + "/"):
        return token.replace(old, new, 1)
    return token


def path_candidates(argv: list[str], cwd: Path) -> list[Path]:
    """Host paths the command names: arguments, override values, and the string values of spec files."""
    found: list[Path] = []
    for token in argv:
        value = token.split("=", 1)[1] if "=" in token and not token.startswith("-") else token
        if not value or value.startswith("-") or ("/" not in value and not (cwd / value).exists()):
            continue
        path = (cwd / value).resolve() if not os.path.isabs(value) else Path(os.path.normpath(value))
        found.append(path)
        if path.is_file() and path.suffix.lower() in (".txt", ".yaml", ".yml", ".cfg", ".prototxt"):
            found += _spec_paths(path, cwd)
    return found


def _spec_paths(spec: Path, cwd: Path) -> list[Path]:
    from taokit.spec.load import parse_spec_source
    from taokit.spec.nodes import Message, Scalar, Sequence

    try:
        root = parse_spec_source(spec)
    except Exception:  # noqa: BLE001 - not a spec after all (a label file, say): nothing to mount from it
        return []
    out: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, Message):
            for entry in node.entries:
                walk(entry.value)
        elif isinstance(node, Sequence):
            for item in node.items:
                walk(item)
        elif isinstance(node, Scalar) and isinstance(node.value, str) and "/" in node.value:
            out.append((cwd / node.value).resolve() if not os.path.isabs(node.value) else Path(node.value))

    walk(root)
    return out


def mount_points(paths: list[Path], cwd: Path, path_map: PathMap) -> list[Path]:
    """The directories to mount so that every path exists in the container: each path's nearest existing
    folder (a file's folder), the working directory, and none inside another or under the mounts file's."""
    chosen: set[Path] = set()
    for path in [cwd, *paths]:
        if path_map.covers(path):
            continue
        folder = path if path.is_dir() else path.parent
        while not folder.exists():
            folder = folder.parent
        if folder in NEVER_MOUNTED or folder.parent == Path("/") and folder.name in {"usr", "etc", "proc", "sys"}:
            raise UsageError(f"{path}: taokit would have to mount {folder} into the container; use paths "
                             "inside a project folder, or a mounts file (~/.tao_mounts.json)")
        chosen.add(folder)
    return sorted(p for p in chosen if not any(q in p.parents for q in chosen))
