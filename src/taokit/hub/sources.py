"""A model named by a source: a local path, `ngc://org/[team/]name:version[/file]`,
`torchvision://ResNet18_Weights.IMAGENET1K_V1`, or `https://host/file#sha256=HEX`; fetched once, then cached.

Every remote source a process resolves is remembered (`resolved()`), so a run can record the file and hash
it started from.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

from taokit.errors import DownloadError
from taokit.hub import cache
from taokit.hub.http import Expected, HttpStatus, Request, download
from taokit.hub.ngc import MODEL_SUFFIXES, NgcFile, NgcRegistry, NgcTarget

log = logging.getLogger("taokit.download")

SCHEMES = ("ngc", "torchvision", "https", "http")
_COLLAPSED = re.compile(r"^(ngc|torchvision|https?):/+")
TORCHVISION_URL = "https://download.pytorch.org/models"
COMPANIONS = ("labels.txt",)  # fetched beside an NGC model file: the class names in network order


@dataclass(frozen=True)
class Resolved:
    source: str
    path: str
    sha256: str


_RESOLVED: dict[str, Resolved] = {}


def normalise(text: str | Path) -> str:
    """The source as the user typed it. A CLI option typed as a path collapses `ngc://` to `ngc:/`."""
    return _COLLAPSED.sub(lambda m: f"{m.group(1)}://", str(text)) if _COLLAPSED.match(str(text)) else str(text)


def is_remote(text: str | Path) -> bool:
    return bool(_COLLAPSED.match(str(text)))


def resolved() -> list[dict[str, str]]:
    """The remote sources this process fetched or found cached: source, local file, SHA-256."""
    return [asdict(r) for r in _RESOLVED.values()]


def fetch(text: str | Path, what: str = "") -> Path:
    """The local file for `text`: a local path as it is; a remote source from the cache, fetched on a miss."""
    source = normalise(text)
    if not is_remote(source):
        return Path(source)
    scheme = source.split("://", 1)[0]
    label = f"{what}: {source}" if what else source
    if scheme == "ngc":
        path, digest = _ngc(source[len("ngc://"):], label)
    elif scheme == "torchvision":
        path, digest = _torchvision(source[len("torchvision://"):], label)
    else:
        path, digest = _url(source, label)
    _RESOLVED[source] = Resolved(source, str(path), digest)
    return path


def fetch_into(path: Path, request: Request, expected: Expected, source: str, label: str) -> str:
    """`path` from the cache, or fetched into it."""
    digest = cached_or_wait(path, source, label)
    if digest is None:
        digest = download(request, path, expected, label)
        cache.write_record(path, source, digest)
    return digest


def cached_or_wait(path: Path, source: str, label: str) -> str | None:
    """The cached file's SHA-256; None when this process should download it (offline: say what to run;
    under torchrun, ranks other than local rank 0 wait for its file)."""
    digest = cache.cached_sha256(path)
    if digest is not None:
        return digest
    if cache.offline():
        raise DownloadError(f"{label}: not in the cache ({path}) and TAOKIT_OFFLINE is set; on a connected machine "
                            f"run `{download_command(source)}` and copy {cache.home()} here")
    if cache.local_rank() != 0:
        return cache.wait_for_local_rank0(path, label)
    return None


def download_command(source: str) -> str:
    if source.startswith("ngc://"):
        target, _, file = split_ngc(source[len("ngc://"):])
        return f"tao model download {target}" + (f" --file {file}" if file else "")
    return f"tao model download {source}"


def split_ngc(text: str) -> tuple[str, str | None, str | None]:
    """`org/team/name:version/file` -> ('org/team/name:version', version, file)."""
    model, colon, rest = text.partition(":")
    version, _, file = rest.partition("/")
    return (f"{model}:{version}" if colon else model), (version or None), (file or None)


def ngc_cache_dir(target: NgcTarget) -> Path:
    return cache.home() / "ngc" / target.org / (target.team or "_") / target.name / str(target.version)


def _ngc(text: str, label: str) -> tuple[Path, str]:
    spelled, _, file = split_ngc(text)
    target = NgcTarget.parse(spelled)
    if target.version is None:
        if cache.offline():
            raise DownloadError(f"{label}: name the version (org/team/name:VERSION); TAOKIT_OFFLINE is set, so the "
                                "latest cannot be looked up")
        target = target.with_version(NgcRegistry().latest_version(target))
        log.info("%s: the latest version is %s", label, target.version)
    folder = ngc_cache_dir(target)
    if file is not None and (file.startswith("/") or ".." in Path(file).parts):
        raise DownloadError(f"{label}: the file part must be a path inside the model version, not {file!r}")
    if file is None:
        file = _only_model_file(target, folder, label)
    path = folder / file
    digest = cached_or_wait(path, f"ngc://{target}/{file}", label)
    if digest is None:
        registry = NgcRegistry()
        listing = list_version(registry, target)
        digest = fetch_ngc_file(registry, target, pick_file(listing, file, target), folder)
        for companion in (f for f in listing if f.path in COMPANIONS and f.path != file):
            fetch_ngc_file(registry, target, companion, folder)
    return path, digest


def list_version(registry: NgcRegistry, target: NgcTarget) -> list[NgcFile]:
    files = registry.files(target)
    if not files:
        raise DownloadError(f"{target}: the version holds no files (still uploading?); see {target.catalog_page}")
    return files


def fetch_ngc_file(registry: NgcRegistry, target: NgcTarget, file: NgcFile, folder: Path) -> str:
    """One file of a version into `folder` (cache or --dest); its SHA-256."""
    if Path(file.path).is_absolute() or ".." in Path(file.path).parts:
        raise DownloadError(f"{target}: the registry lists a file outside its folder ({file.path!r}); not fetched")
    try:
        return fetch_into(folder / file.path, registry.file_request(target, file.path),
                          Expected(file.size, file.sha256), f"ngc://{target}/{file.path}", f"{target}/{file.path}")
    except HttpStatus as err:
        raise registry.refused(target, err, "file") from None


def pick_file(listing: list[NgcFile], file: str, target: NgcTarget) -> NgcFile:
    for entry in listing:
        if entry.path == file:
            return entry
    names = ", ".join(f.path for f in listing)
    raise DownloadError(f"{target}: no file {file!r} in this version; its files: {names}")


def _only_model_file(target: NgcTarget, folder: Path, label: str) -> str:
    """A source without a file names the version's one model file; more than one must be chosen."""
    if cache.offline() or folder.is_dir() and any(folder.iterdir()):
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    else:
        names = [f.path for f in list_version(NgcRegistry(), target)]
    models = [n for n in names if n.lower().endswith(MODEL_SUFFIXES)]
    if len(models) == 1:
        return models[0]
    if not names:
        raise DownloadError(f"{label}: not in the cache and TAOKIT_OFFLINE is set; on a connected machine run "
                            f"`tao model download {target}`")
    raise DownloadError(f"{label}: the version holds {len(models) or 'no'} model files ({', '.join(names)}); name "
                        f"one: ngc://{target}/FILE")


def _torchvision(name: str, label: str) -> tuple[Path, str]:
    try:
        from torchvision.models import get_weight

        weights = get_weight(name)
    except (ValueError, KeyError, AttributeError):
        raise DownloadError(f"{label}: torchvision has no weights {name!r}; name an entry of a weights enum, e.g. "
                            "torchvision://ResNet18_Weights.IMAGENET1K_V1") from None
    url: str = weights.url
    filename = url.rsplit("/", 1)[-1]
    prefix_match = re.search(r"-([0-9a-f]{8,})\.", filename)
    expected = Expected(sha256_prefix=prefix_match.group(1) if prefix_match else None)
    torch_cache = Path(os.environ.get("TORCH_HOME") or Path.home() / ".cache" / "torch") / "hub" / "checkpoints"
    if (torch_cache / filename).is_file():  # torch.hub's copy: reused, read only, checked by its hash prefix
        try:
            from taokit.hub.http import verify

            return torch_cache / filename, verify(torch_cache / filename, expected, label)
        except DownloadError as err:
            log.warning("%s; fetching a fresh copy into taokit's cache", err)
    mirror = os.environ.get("TAOKIT_TORCHVISION_URL")
    if mirror and url.startswith(TORCHVISION_URL):
        url = mirror.rstrip("/") + url[len(TORCHVISION_URL):]
    path = cache.home() / "torchvision" / filename
    return path, fetch_into(path, Request(url), expected, f"torchvision://{name}", label)


def _url(source: str, label: str) -> tuple[Path, str]:
    url, _, fragment = source.partition("#")
    sha = dict(urllib.parse.parse_qsl(fragment)).get("sha256")
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
        raise DownloadError(f"{label}: #sha256= must be 64 hex digits")
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    path = cache.home() / "url" / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    try:
        return path, fetch_into(path, Request(url), Expected(sha256=sha), source, label)
    except HttpStatus as err:
        raise DownloadError(f"{label}: the server answered HTTP {err.status}; check the address") from None
