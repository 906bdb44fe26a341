"""The container runtime: the same command line, re-run inside an NGC-style image (TAO's launcher, fixed).

The job runs as the calling uid:gid (files on the host belong to the user), sees every path its command
line and spec name (see mounts.py), gets the GPUs `--gpus`/`--gpu_index` ask for and shared memory for
DataLoader workers, and its exit code comes back unchanged. Ctrl-C stops it; the container is removed in
every case.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.errors import DependencyError, UsageError
from taokit.launch.mounts import MountsFile, PathMap, mount_points, path_candidates, read_mounts_file

log = logging.getLogger("taokit.launch")
DEFAULT_IMAGE = "taokit:local"
DEFAULT_SHM = "8g"  # DataLoader workers pass batches through /dev/shm; Docker's default 64 MB is too small
LABEL = "taokit.job"
SPEC_FLAGS = {"-e", "--experiment_spec_file", "--experiment_spec", "--experiment-spec-file", "-d",
              "--dataset_export_spec", "--dataset-export-spec"}
RESULTS_FLAGS = {"-r", "--results_dir", "--results-dir"}


@dataclass(frozen=True)
class Runtime:
    name: str  # "local" or "docker"
    image: str


def choose_runtime(flag: str | None, image_flag: str | None, mounts: MountsFile | None = None) -> Runtime:
    """--runtime, else TAO_RUNTIME, else the mounts file; TAO_DOCKER_DISABLE=1 and being inside the
    container force local. The image: --image, else TAO_IMAGE, else the mounts file, else taokit:local."""
    mounts = mounts if mounts is not None else read_mounts_file()
    name = flag or os.environ.get("TAO_RUNTIME") or mounts.runtime or "local"
    if name not in ("local", "docker"):
        raise UsageError(f"--runtime {name}: choose local or docker")
    if os.environ.get("TAO_DOCKER_DISABLE") == "1" or os.environ.get("TAOKIT_IN_CONTAINER") == "1":
        name = "local"
    image = image_flag or os.environ.get("TAO_IMAGE") or mounts.image or DEFAULT_IMAGE
    return Runtime(name, image)


def _flag_value(argv: list[str], flags: set[str]) -> str | None:
    for i, token in enumerate(argv[:-1]):
        if token in flags:
            return argv[i + 1]
    return None


def _translated_argv(argv: list[str], cwd: Path, path_map: PathMap, owner: tuple[int, int] | None = None) -> list[str]:
    """argv with host paths under a mounts-file source turned into container paths, and a translated copy
    of the spec (in the results dir) where the spec names such paths."""
    out = [path_map.to_container(token) for token in argv]
    spec, results = _flag_value(argv, SPEC_FLAGS), _flag_value(argv, RESULTS_FLAGS)
    if not path_map.mounts or spec is None or not (cwd / spec).is_file():
        return out
    text = (cwd / spec).read_text(encoding="utf-8")
    translated = text
    for m in path_map.mounts:
        translated = translated.replace(str(m.source), str(m.destination))
    if translated == text:
        return out
    folder = (cwd / (results or ".")).resolve() / "container_spec"
    created = [folder, *(p for p in folder.parents if not p.exists())]
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / Path(spec).name
    copy.write_text(translated, encoding="utf-8")
    if owner is not None and os.getuid() == 0:  # the job runs as another user: let it write there too
        for path in (*created, copy):
            if path.exists():
                os.chown(path, *owner)
    index = out.index(path_map.to_container(spec))
    out[index] = path_map.to_container(str(copy))
    return out


def _without_key(argv: list[str]) -> list[str]:
    """-k KEY is accepted and ignored: it never reaches the container, its logs or its command line."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-k", "--key"):
            skip = True
        elif not token.startswith(("--key=", "-k=")):
            out.append(token)
    return out


def _numeric_user(user: str) -> tuple[int, int] | None:
    uid, _, gid = str(user).partition(":")
    return (int(uid), int(gid or uid)) if uid.isdigit() and (gid or uid).isdigit() else None


def _client() -> Any:
    try:
        import docker
    except ImportError:  # pragma: no cover - a declared dependency
        raise DependencyError("--runtime docker needs the docker Python package: pip install docker") from None
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as err:  # noqa: BLE001 - any failure means the daemon is not usable
        raise DependencyError(f"--runtime docker: no Docker daemon is reachable ({str(err).splitlines()[0][:120]}); "
                              "start dockerd, or run without --runtime docker") from None
    return client


def _device_requests(gpus: int, gpu_index: list[int], client: Any) -> list[Any]:
    import docker

    if gpus == 0 or "nvidia" not in (client.info().get("Runtimes") or {}):
        return []  # no NVIDIA container runtime: the job runs on the CPU
    if gpu_index:
        return [docker.types.DeviceRequest(device_ids=[str(i) for i in gpu_index], capabilities=[["gpu"]])]
    return [docker.types.DeviceRequest(count=gpus, capabilities=[["gpu"]])]


def _model_cache() -> Path:
    from taokit.hub.cache import home

    cache = home()
    cache.mkdir(parents=True, exist_ok=True)
    return cache.resolve()


def run_in_container(argv: list[str], runtime: Runtime, *, gpus: int = 1, gpu_index: list[int] | None = None,
                     mounts: MountsFile | None = None) -> int:
    """Run `tao <argv>` in `runtime.image`; returns the job's exit code."""
    import docker

    mounts = mounts if mounts is not None else read_mounts_file()
    client = _client()
    try:
        client.images.get(runtime.image)
    except docker.errors.ImageNotFound:
        raise UsageError(f"image {runtime.image} not found; build it with `make docker-image-local` (offline) or "
                         "`make docker-build`, or name another with --image") from None
    cwd = Path.cwd()
    path_map = PathMap(mounts.mounts)
    binds = {str(p): {"bind": str(p), "mode": "rw"} for p in mount_points(path_candidates(argv, cwd), cwd, path_map)}
    binds.update({str(m.source): {"bind": str(m.destination), "mode": "rw"} for m in mounts.mounts})
    options = dict(mounts.docker_options)
    user = options.pop("user", f"{os.getuid()}:{os.getgid()}")
    ulimits = [docker.types.Ulimit(name=k, soft=v, hard=v) for k, v in (options.pop("ulimits", {}) or {}).items()]
    options.pop("tty", None)
    cache = _model_cache()  # models fetched by name: shared with the host, so a container never fetches twice
    binds.setdefault(str(cache), {"bind": str(cache), "mode": "rw"})
    environment = {"HOME": "/home/taokit", "USER": getpass.getuser(), "TAOKIT_IN_CONTAINER": "1",
                   "TAOKIT_PLAIN": os.environ.get("TAOKIT_PLAIN", ""), "TAOKIT_HOME": str(cache),
                   **{k: os.environ[k] for k in PASSED_ENV if k in os.environ}, **mounts.envs}
    command = _without_key(_translated_argv(argv, cwd, path_map, _numeric_user(user)))
    log.info("running in %s as %s with %d mount(s): tao %s", runtime.image, user, len(binds), " ".join(command))
    container = client.containers.create(
        runtime.image, command=command, user=user, environment=environment, volumes=binds,
        working_dir=path_map.to_container(str(cwd)), shm_size=options.pop("shm_size", DEFAULT_SHM), ulimits=ulimits,
        device_requests=_device_requests(gpus, gpu_index or [], client), labels={LABEL: "1"}, **options)
    try:
        return _stream(container, path_map)
    except KeyboardInterrupt:
        container.stop(timeout=10)
        raise
    finally:
        container.remove(force=True)


# What a job inside needs to fetch models as it would on the host: the mirror, offline mode, a private key,
# the proxy.
PASSED_ENV = ("TAOKIT_OFFLINE", "TAOKIT_NGC_URL", "TAOKIT_TORCHVISION_URL", "NGC_API_KEY", "NGC_CLI_API_KEY",
              "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


def _stream(container: Any, path_map: PathMap) -> int:
    """Start the container and copy its stdout and stderr to ours (paths as the host sees them)."""
    socket = container.attach(stdout=True, stderr=True, stream=True, demux=True, logs=True)

    def pump() -> None:
        for out, err in socket:
            for data, stream in ((out, sys.stdout), (err, sys.stderr)):
                if data:
                    stream.write(path_map.to_host(data.decode("utf-8", "replace")))
                    stream.flush()

    reader = threading.Thread(target=pump, daemon=True)
    container.start()
    reader.start()
    code = int(container.wait()["StatusCode"])
    reader.join(timeout=10)
    return code
