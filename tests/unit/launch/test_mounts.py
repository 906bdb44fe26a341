"""What the container runtime mounts and translates, and how it is chosen (no Docker needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taokit.errors import UsageError
from taokit.launch.docker import choose_runtime
from taokit.launch.mounts import Mount, MountsFile, PathMap, mount_points, path_candidates, read_mounts_file


def test_paths_from_argv_overrides_and_spec_strings(tmp_path: Path) -> None:
    data = tmp_path / "data" / "images"
    data.mkdir(parents=True)
    spec = tmp_path / "specs" / "train.txt"
    spec.parent.mkdir()
    spec.write_text(f'dataset_config {{ data_sources {{ image_directory_path: "{data}" }} }}\nname: "model"\n')
    argv = ["detectnet", "train", "-e", str(spec), "-r", "results/run1", "-n", "model",
            f"model_config.pretrained_model_file={tmp_path / 'pre' / 'w.pth'}"]
    found = path_candidates(argv, tmp_path)
    assert spec in found and data in found and tmp_path / "results" / "run1" in found
    assert tmp_path / "pre" / "w.pth" in found and not any(p.name == "model" for p in found)
    points = mount_points(found, tmp_path, PathMap([]))
    assert points == [tmp_path]  # everything lies under the working directory: one mount


def test_outside_paths_get_their_nearest_existing_folder_and_system_folders_are_refused(tmp_path: Path) -> None:
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir()
    (other / "data").mkdir(parents=True)
    points = mount_points([other / "data", other / "new" / "results"], work, PathMap([]))
    assert points == [other, work]
    with pytest.raises(UsageError, match="would have to mount /usr into the container"):
        mount_points([Path("/usr/nonexistent/model.pth")], work, PathMap([]))


def test_mounts_file_mappings_translate_both_ways(tmp_path: Path) -> None:
    path_map = PathMap([Mount(tmp_path / "exp", Path("/workspace/exp"))])
    assert path_map.to_container(str(tmp_path / "exp" / "spec.txt")) == "/workspace/exp/spec.txt"
    assert path_map.to_container(f"key={tmp_path / 'exp'}/a") == "key=/workspace/exp/a"
    assert path_map.to_container(str(tmp_path / "expert")) == str(tmp_path / "expert")  # a prefix, not a folder
    assert path_map.to_host("error: /workspace/exp/spec.txt:3:1: bad") == f"error: {tmp_path}/exp/spec.txt:3:1: bad"
    assert path_map.covers(tmp_path / "exp" / "x") and not path_map.covers(tmp_path / "other")


def test_the_mounts_file_is_tao_s_format(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    path = tmp_path / "mounts.json"
    path.write_text(json.dumps({"Mounts": [{"source": str(tmp_path / "exp"), "destination": "/workspace/exp"}],
                                "Envs": [{"variable": "CUDA_DEVICE_ORDER", "value": "PCI_BUS_ID"}],
                                "DockerOptions": {"shm_size": "16G", "user": "1000:1000"}}))
    mounts = read_mounts_file(path)
    assert mounts.mounts == [Mount(tmp_path / "exp", Path("/workspace/exp"))]
    assert mounts.envs == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID"} and mounts.docker_options["shm_size"] == "16G"
    path.write_text(json.dumps({"Mounts": [], "Volumes": []}))
    with pytest.raises(UsageError, match="unknown key 'Volumes'"):
        read_mounts_file(path)
    path.write_text(json.dumps({"Mounts": [{"source": str(tmp_path / "gone"), "destination": "/x"}]}))
    with pytest.raises(UsageError, match="mount source .*gone does not exist"):
        read_mounts_file(path)
    assert read_mounts_file(tmp_path / "absent.json") == MountsFile()


def test_choosing_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TAO_RUNTIME", "TAO_IMAGE", "TAO_DOCKER_DISABLE", "TAOKIT_IN_CONTAINER"):
        monkeypatch.delenv(name, raising=False)
    empty = MountsFile()
    assert choose_runtime(None, None, empty).name == "local"
    assert choose_runtime("docker", None, empty).image == "taokit:local"
    monkeypatch.setenv("TAO_RUNTIME", "docker")
    monkeypatch.setenv("TAO_IMAGE", "taokit:gpu")
    assert choose_runtime(None, None, empty) == choose_runtime("docker", "taokit:gpu", empty)
    assert choose_runtime(None, None, MountsFile(runtime="local", image="x")).name == "docker"  # env before file
    monkeypatch.delenv("TAO_RUNTIME")
    assert choose_runtime(None, None, MountsFile(runtime="docker")).name == "docker"
    monkeypatch.setenv("TAO_DOCKER_DISABLE", "1")
    assert choose_runtime("docker", None, empty).name == "local"
    with pytest.raises(UsageError, match="--runtime kubernetes: choose local or docker"):
        choose_runtime("kubernetes", None, empty)
