"""`tao model download`: NGC models by the NGC CLI's target, without the CLI or a key; torchvision and URL sources."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import DownloadError, UsageError
from taokit.results import Result, Table


def run(target: str, *, dest: Path | None = None, files: list[str] | None = None) -> Result:
    from taokit.hub import sources
    from taokit.hub.ngc import NgcRegistry, NgcTarget

    if sources.is_remote(target) and not target.startswith("ngc:"):
        if dest is not None or files:
            raise UsageError("--dest and --file apply to NGC targets; a torchvision:// or https:// source goes to "
                             "the cache (TAOKIT_HOME)")
        path = sources.fetch(target)
        return Result(lines=[f"{target}: {path}"])
    spelled, _, named = sources.split_ngc(sources.normalise(target).removeprefix("ngc://"))
    ngc = NgcTarget.parse(spelled)
    files = [*(files or []), *([named] if named else [])]  # ngc://org/team/name:version/FILE as --file FILE
    registry = NgcRegistry()
    lines = []
    if ngc.version is None:
        _online(f"{ngc}: the latest version")
        ngc = ngc.with_version(registry.latest_version(ngc))
        lines.append(f"{ngc.model}: no version given; the latest is {ngc.version}")
    folder = dest / ngc.folder if dest is not None else sources.ngc_cache_dir(ngc)
    if _all_cached(folder, files):
        wanted = [folder / f for f in files or []]
    else:
        _online(str(ngc))
        listing = sources.list_version(registry, ngc)
        chosen = [sources.pick_file(listing, f, ngc) for f in files] if files else listing
        for entry in chosen:
            sources.fetch_ngc_file(registry, ngc, entry, folder)
        wanted = [folder / entry.path for entry in chosen]
    lines += [f"{path} ({path.stat().st_size / 1e6:.1f} MB)" for path in wanted]
    models = [p for p in wanted if p.suffix.lower() in (".onnx", ".hdf5", ".pth")]
    if models and dest is None:
        lines.append(f"use it by name (no path needed): -m ngc://{ngc}/{models[0].name}")
    return Result(lines=lines, data={"files": [str(p) for p in wanted]})


def list_model(target: str) -> Result:
    """Versions of a model (newest first, as NGC lists them), or the files of one version."""
    from taokit.hub import sources
    from taokit.hub.ngc import NgcRegistry, NgcTarget

    ngc = NgcTarget.parse(sources.normalise(target).removeprefix("ngc://"))
    _online(f"--list {ngc}")
    registry = NgcRegistry()
    if ngc.version is None:
        rows = [[v.version, _mb(v.size), v.status] for v in registry.versions(ngc)]
        return Result(tables=[Table(f"{ngc.model}: {len(rows)} versions", ["version", "MB", "status"], rows)],
                      lines=[f"download one: tao model download {ngc.model}:VERSION"])
    rows = [[f.path, _mb(f.size), f.sha256[:16] + "…" if f.sha256 else ""] for f in sources.list_version(registry, ngc)]
    return Result(tables=[Table(f"{ngc}: {len(rows)} files", ["file", "MB", "sha256"], rows)])


def _all_cached(folder: Path, files: list[str] | None) -> bool:
    """Named files already there (checked by hash) need no network; a whole version needs its file list."""
    from taokit.hub.cache import cached_sha256

    return bool(files) and all(cached_sha256(folder / f) is not None for f in files or [])


def _online(what: str) -> None:
    from taokit.hub.cache import offline

    if offline():
        raise DownloadError(f"{what}: needs NGC and TAOKIT_OFFLINE is set; name the version and --file of a cached "
                            "model, or run this on a connected machine")


def _mb(size: int | None) -> str:
    return f"{size / 1e6:.1f}" if size else ""
