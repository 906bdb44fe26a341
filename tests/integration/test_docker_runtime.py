"""The container runtime with a real dockerd and the offline image `taokit:local` (make docker-image-local):
the same command lines, host paths mounted automatically, files owned by the caller, exit codes kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = [pytest.mark.docker, pytest.mark.slow]
IMAGE = os.environ.get("TAOKIT_TEST_IMAGE", "taokit:local")


@pytest.fixture(scope="module")
def docker_ready() -> None:
    """dockerd and the image; CI (TAOKIT_REQUIRE_DOCKER=1) fails without them, a laptop skips."""
    problem = None
    try:
        subprocess.run(["docker", "image", "inspect", IMAGE], check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        problem = "the docker client is not installed"
    except subprocess.CalledProcessError as err:
        problem = f"docker image inspect {IMAGE} failed: {err.stderr.decode().strip()[:200]}"
    if problem and os.environ.get("TAOKIT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{problem}; .ci/run starts dockerd and runs make docker-image-local")
    if problem:
        pytest.skip(f"{problem} (make docker-image-local with a running dockerd enables these tests)")


def _tao(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = dict(os.environ, TAOKIT_PLAIN="1", LAUNCHER_MOUNTS=str(cwd / "no-mounts-file.json"))
    return subprocess.run([sys.executable, "-m", "taokit", *map(str, args)], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=900)


def _leftover_containers() -> list[str]:
    result = subprocess.run(["docker", "ps", "-aq", "--filter", "label=taokit.job"], capture_output=True, text=True)
    return result.stdout.split()


def _convert_spec(tmp_path: Path, data: Path) -> Path:
    spec = tmp_path / "convert.txt"
    spec.write_text(f'kitti_config {{ root_directory_path: "{data / "training"}" image_dir_name: "image_2" '
                    f'label_dir_name: "label_2" image_extension: ".png" partition_mode: "random" num_partitions: 2 '
                    f'val_split: 25 num_shards: 2 }}\nimage_directory_path: "{data / "training"}"\n')
    return spec


def test_dataset_convert_and_train_in_the_container(docker_ready: None, tiny_kitti: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    converted = _tao("detectnet", "dataset_convert", "-d", _convert_spec(tmp_path, tiny_kitti), "-o",
                     out / "shards" / "kitti", "--runtime", "docker", "--image", IMAGE, cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr[-3000:]
    assert f"in {IMAGE}" in converted.stderr and len(list((out / "shards").glob("kitti*"))) == 4
    trained = _tao("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", out / "train", "-k", "KEY", "--log_file",
                   out / "train.log", *tiny_train_overrides(tiny_kitti), cwd=tmp_path, env={"TAO_RUNTIME": "docker"})
    assert trained.returncode == 0, trained.stderr[-3000:]
    weights = out / "train" / "weights" / "model.pth"
    assert f"weights: {weights}" in trained.stdout  # the host's paths, as typed
    for path in (weights, out / "train" / "status.json", out / "shards", out / "train.log"):
        assert path.stat().st_uid == os.getuid() and path.stat().st_gid == os.getgid(), path
    assert "epoch 1/1" in (out / "train.log").read_text()  # --log_file written by the job in the container
    assert json.loads((out / "train" / "status.json").read_text().splitlines()[-1])["status"] == "SUCCESS"
    assert not _leftover_containers()


def test_a_failing_job_keeps_its_exit_code_and_leaves_nothing_behind(docker_ready: None, tmp_path: Path) -> None:
    spec = tmp_path / "spec.txt"
    spec.write_text((DEMO_TRAIN_SPEC.read_text()).replace("random_seed", "random_seeds", 1))
    result = _tao("detectnet", "train", "-e", spec, "-r", tmp_path / "run", "--runtime", "docker", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {spec}:")
    assert "did you mean 'random_seed'" in result.stderr and "Traceback" not in result.stderr
    assert not _leftover_containers()


@pytest.fixture
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder another uid may use (pytest's own temporary folders are private to their owner)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="taokit-docker-"))
    folder.chmod(0o777)
    yield folder
    subprocess.run(["docker", "run", "--rm", "-v", f"{folder}:{folder}", "--user", "0:0", "--entrypoint", "/bin/sh",
                    IMAGE, "-c", f"chmod -R a+rwX {folder}"], capture_output=True)  # files of uid 1234
    shutil.rmtree(folder, ignore_errors=True)


def test_a_mounts_file_maps_paths_and_sets_the_user(docker_ready: None, tiny_kitti: Path, shared_dir: Path) -> None:
    import shutil

    tmp_path = shared_dir
    data = shutil.copytree(tiny_kitti, tmp_path / "data")
    subprocess.run(["chmod", "-R", "a+rwX", str(tmp_path)], check=True)
    tiny_kitti = Path(data)
    mounts = tmp_path / "mounts.json"
    mounts.write_text(json.dumps({"Mounts": [{"source": str(tiny_kitti), "destination": "/workspace/data"}],
                                  "DockerOptions": {"user": "1234:1234", "shm_size": "1g"}, "runtime": "docker",
                                  "image": IMAGE}))
    out = tmp_path / "results"
    result = _tao("detectnet", "dataset_convert", "-d", _convert_spec(tmp_path, tiny_kitti), "-o",
                  out / "kitti", "-r", out, cwd=tmp_path, env={"LAUNCHER_MOUNTS": str(mounts)})
    assert result.returncode == 0, result.stderr[-3000:]
    translated = (out / "container_spec" / "convert.txt").read_text()
    assert "/workspace/data/training" in translated and str(tiny_kitti) not in translated
    shards = list(out.glob("kitti*"))
    assert len(shards) == 4 and all(p.stat().st_uid == 1234 for p in shards)
    local = _tao("detectnet", "dataset_convert", "-d", _convert_spec(tmp_path, tiny_kitti), "-o", tmp_path / "local",
                 cwd=tmp_path, env={"LAUNCHER_MOUNTS": str(mounts), "TAO_DOCKER_DISABLE": "1"})
    assert local.returncode == 0 and "in taokit:local" not in local.stderr


def test_a_job_in_the_container_finds_models_the_host_fetched(docker_ready: None, tiny_detector: Path,
                                                               tiny_kitti: Path, tmp_path: Path,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    """The host's model cache is mounted: an ngc:// source cached on the host runs in the container, offline."""
    from taokit.hub.cache import write_record
    from taokit.hub.http import file_sha256

    cache = tmp_path_factory.mktemp("model_cache")  # named by no path on the command line: mounted as the cache
    folder = cache / "ngc" / "nvidia" / "tao" / "tiny" / "v1"
    folder.mkdir(parents=True)
    onnx = folder / "tiny.onnx"
    exported = _tao("detectnet", "export", "-m", tiny_detector / "weights" / "tiny.pth", "-o", onnx, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    write_record(onnx, "ngc://nvidia/tao/tiny:v1/tiny.onnx", file_sha256(onnx))
    env = {"TAOKIT_HOME": str(cache), "TAOKIT_OFFLINE": "1"}
    result = _tao("detectnet", "inference", "-m", "ngc://nvidia/tao/tiny:v1/tiny.onnx", "-i",
                  tiny_kitti / "testing" / "image_2", "-o", tmp_path / "out", "--runtime", "docker", "--image", IMAGE,
                  cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"in {IMAGE}" in result.stderr and len(list((tmp_path / "out" / "labels").iterdir())) == 3
