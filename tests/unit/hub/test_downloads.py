"""`tao model download` and ngc:// / torchvision:// / https:// sources against a local NGC-shaped server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ngc_server import Registry, point_taokit_at, serve
from taokit_testing import run_cli

PEOPLENET = "nvidia/tao/peoplenet"
VERSION = "pruned_quantized_decrypted_v2.3.4"
ONNX = b"onnx-bytes-" * 5000
FILES = {"resnet34_peoplenet_int8.onnx": ONNX, "resnet34_peoplenet_int8.txt": b"cache", "labels.txt": b"person\nbag\nface\n"}


@pytest.fixture
def registry() -> Registry:
    return Registry(models={PEOPLENET: {VERSION: dict(FILES), "pruned_v2.1": {"old.onnx": b"old"}},
                            "nvidia/private_model": {"v1": {"model.onnx": b"secret"}}},
                    private={"nvidia/private_model"})


@pytest.fixture
def server(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with serve(registry) as base:
        point_taokit_at(base, tmp_path / "home", monkeypatch)
        yield base


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ngc" / "nvidia" / "tao" / "peoplenet" / VERSION


def test_download_writes_the_cache_and_a_hit_needs_no_network(server, registry: Registry, tmp_path: Path) -> None:
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}")
    assert result.exit_code == 0, result.output
    folder = _cache(tmp_path)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")} == FILES
    record = json.loads((folder / ".resnet34_peoplenet_int8.onnx.taokit.json").read_text())
    assert record["sha256"] == hashlib.sha256(ONNX).hexdigest() and record["size"] == len(ONNX)
    assert f"-m ngc://{PEOPLENET}:{VERSION}/resnet34_peoplenet_int8.onnx" in result.stdout
    assert not list(folder.glob("*.partial"))

    from taokit.hub.sources import fetch

    before = len(registry.requests)
    os.chmod(folder, 0o555)  # a read-only cache still serves hits
    try:
        path = fetch(f"ngc://{PEOPLENET}:{VERSION}/resnet34_peoplenet_int8.onnx")
    finally:
        os.chmod(folder, 0o755)
    assert path == folder / "resnet34_peoplenet_int8.onnx" and len(registry.requests) == before


def test_dest_layout_latest_version_and_listing(server, tmp_path: Path) -> None:
    latest = run_cli("model", "download", PEOPLENET, "--dest", tmp_path / "models", "--file", "labels.txt")
    assert latest.exit_code == 0, latest.output
    assert f"the latest is {VERSION}" in latest.stdout
    assert (tmp_path / "models" / f"peoplenet_v{VERSION}" / "labels.txt").read_bytes() == FILES["labels.txt"]
    assert not (tmp_path / "models" / f"peoplenet_v{VERSION}" / "resnet34_peoplenet_int8.onnx").exists()
    by_source = run_cli("model", "download", f"ngc://{PEOPLENET}:{VERSION}/labels.txt")  # a source, pasted
    assert by_source.exit_code == 0, by_source.output
    assert (_cache(tmp_path) / "labels.txt").is_file() and not (_cache(tmp_path) / "resnet34_peoplenet_int8.onnx").exists()
    versions = run_cli("model", "download", "--list", PEOPLENET)
    assert versions.exit_code == 0 and VERSION in versions.stdout and "pruned_v2.1" in versions.stdout
    files = run_cli("model", "download", "--list", f"{PEOPLENET}:{VERSION}")
    assert files.exit_code == 0 and "resnet34_peoplenet_int8.onnx" in files.stdout


def test_a_source_without_a_file_names_the_versions_one_model(server, tmp_path: Path) -> None:
    from taokit.hub.sources import fetch, resolved

    one = fetch(f"ngc://{PEOPLENET}:pruned_v2.1", "model_config.pretrained_model_file")
    assert one.name == "old.onnx" and one.read_bytes() == b"old"
    assert resolved()[0]["sha256"] == hashlib.sha256(b"old").hexdigest()


@pytest.mark.parametrize("target, status, words", [
    (f"{PEOPLENET}:v9", None, ["no version 'v9'", VERSION]),
    ("nvidia/tao/nothing:v1", None, ["no such model", "catalog.ngc.nvidia.com"]),
    ("nvidia/private_model:v1", None, ["NGC_API_KEY"]),
    (f"{PEOPLENET}:{VERSION}", 412, ["licence", "catalog.ngc.nvidia.com/orgs/nvidia/teams/tao/models/peoplenet"]),
    (f"{PEOPLENET}:{VERSION}", 451, ["region", "TAOKIT_NGC_URL"]),
    ("nvidia/tao/peoplenet:v1:v2", None, ["org/[team/]name[:version]"]),
])
def test_registry_refusals_are_one_line(server, registry: Registry, target: str, status: int | None,
                                        words: list[str]) -> None:
    if status is not None:
        registry.statuses["/v2/models/nvidia/tao/peoplenet/versions/"] = [status]
    result = run_cli("model", "download", target)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


def test_a_file_part_outside_the_version_is_refused(server) -> None:
    from taokit.errors import DownloadError
    from taokit.hub.sources import fetch

    with pytest.raises(DownloadError, match="a path inside the model version"):
        fetch(f"ngc://{PEOPLENET}:{VERSION}/../../../etc/passwd")


def test_missing_file_lists_the_version_files(server) -> None:
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}", "--file", "nope.onnx")
    assert result.exit_code == 2 and "resnet34_peoplenet_int8.onnx" in result.stderr


def test_private_model_with_a_key(server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NGC_API_KEY", "wrong")
    refused = run_cli("model", "download", "nvidia/private_model:v1")
    assert refused.exit_code == 2 and "NGC_API_KEY" in refused.stderr
    monkeypatch.setenv("NGC_API_KEY", "good-key")
    result = run_cli("model", "download", "nvidia/private_model:v1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "ngc" / "nvidia" / "_" / "private_model" / "v1" / "model.onnx").read_bytes() == b"secret"


def test_retries_server_errors_and_resumes_a_cut_body(server, registry: Registry, tmp_path: Path) -> None:
    registry.statuses["/v2/models/nvidia/tao/peoplenet/versions/"] = [500, 503]
    registry.cut_short.add(registry.blob_key(PEOPLENET, VERSION, "resnet34_peoplenet_int8.onnx"))
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}", "--file", "resnet34_peoplenet_int8.onnx")
    assert result.exit_code == 0, result.output
    assert (_cache(tmp_path) / "resnet34_peoplenet_int8.onnx").read_bytes() == ONNX
    assert registry.ranges == [f"bytes={len(ONNX) // 2}-"]  # the second try asked only for the rest


def test_a_server_that_ignores_range_starts_over(server, registry: Registry, tmp_path: Path) -> None:
    registry.ignore_range = True
    registry.cut_short.add(registry.blob_key(PEOPLENET, VERSION, "resnet34_peoplenet_int8.onnx"))
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}", "--file", "resnet34_peoplenet_int8.onnx")
    assert result.exit_code == 0, result.output
    assert (_cache(tmp_path) / "resnet34_peoplenet_int8.onnx").read_bytes() == ONNX


def test_a_download_that_keeps_failing_leaves_no_file(server, registry: Registry, tmp_path: Path) -> None:
    registry.statuses["/blobs/"] = [500] * 4
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}", "--file", "labels.txt")
    assert result.exit_code == 2 and "after 4 tries" in result.stderr
    folder = _cache(tmp_path)
    assert not folder.exists() or not [p for p in folder.iterdir()]


def test_a_damaged_cached_file_is_fetched_again(server, registry: Registry, tmp_path: Path) -> None:
    from taokit.hub.sources import fetch

    source = f"ngc://{PEOPLENET}:{VERSION}/resnet34_peoplenet_int8.onnx"
    path = fetch(source)
    path.write_bytes(ONNX[:100])  # a truncated copy, as a full disk or a killed copy leaves
    again = fetch(source)
    assert again.read_bytes() == ONNX


def test_offline_hits_work_and_misses_name_the_command(server, registry: Registry, monkeypatch, tmp_path) -> None:
    from taokit.hub.sources import fetch

    source = f"ngc://{PEOPLENET}:{VERSION}/labels.txt"
    monkeypatch.setenv("TAOKIT_OFFLINE", "1")
    missed = run_cli("detectnet", "inference", "-m", source, "-i", tmp_path, "-o", tmp_path / "out")
    assert missed.exit_code == 2 and registry.requests == []
    assert f"tao model download {PEOPLENET}:{VERSION} --file labels.txt" in missed.stderr
    monkeypatch.delenv("TAOKIT_OFFLINE")
    fetch(source)
    monkeypatch.setenv("TAOKIT_OFFLINE", "1")
    before = len(registry.requests)
    assert fetch(source).read_bytes() == FILES["labels.txt"] and len(registry.requests) == before


def test_other_local_ranks_wait_for_rank_0(server, registry: Registry, monkeypatch, tmp_path: Path) -> None:
    from taokit.hub import cache
    from taokit.hub.sources import fetch

    target = _cache(tmp_path) / "labels.txt"

    def rank0() -> None:
        time.sleep(0.5)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(FILES["labels.txt"])
        cache.write_record(target, "test", hashlib.sha256(FILES["labels.txt"]).hexdigest())

    monkeypatch.setenv("LOCAL_RANK", "1")
    writer = threading.Thread(target=rank0)
    writer.start()
    assert fetch(f"ngc://{PEOPLENET}:{VERSION}/labels.txt") == target
    writer.join()
    assert registry.requests == []  # rank 1 never went to the network


def test_two_processes_fetching_one_file_both_succeed(server, registry: Registry, tmp_path: Path) -> None:
    code = ("import sys; from taokit.hub.sources import fetch; "
            f"print(fetch('ngc://{PEOPLENET}:{VERSION}/resnet34_peoplenet_int8.onnx'))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    runs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outs = [r.communicate(timeout=120)[0].strip() for r in runs]
    assert [r.returncode for r in runs] == [0, 0] and outs[0] == outs[1]
    folder = _cache(tmp_path)
    assert (folder / "resnet34_peoplenet_int8.onnx").read_bytes() == ONNX
    assert [p.name for p in folder.iterdir() if "partial" in p.name] == []


def test_https_source_with_sha256(server, registry: Registry, tmp_path: Path) -> None:
    from taokit.errors import DownloadError
    from taokit.hub.sources import fetch

    key = registry.blob_key(PEOPLENET, VERSION, "labels.txt")
    good = hashlib.sha256(FILES["labels.txt"]).hexdigest()
    assert fetch(f"{server}/blobs/{key}#sha256={good}").read_bytes() == FILES["labels.txt"]
    with pytest.raises(DownloadError, match="differs from the published"):
        fetch(f"{server}/blobs/{key}?x=1#sha256={'0' * 64}")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(f"{server}/blobs/missing")


def test_torchvision_source_checks_the_hash_in_its_name(server, registry: Registry, monkeypatch,
                                                        tmp_path: Path) -> None:
    from torchvision.models import ResNet18_Weights

    from taokit.errors import DownloadError
    from taokit.hub.sources import fetch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    name = ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]
    registry.models["torchvision"] = {"": {name: b"not the real weights"}}
    with pytest.raises(DownloadError, match="does not start with"):
        fetch("torchvision://ResNet18_Weights.IMAGENET1K_V1")
    assert registry.requests == [f"/models/{name}"]  # the mirror, with torchvision's own file name
    assert not (tmp_path / "home" / "torchvision" / name).exists()
    with pytest.raises(DownloadError, match="no weights 'ResNet18_Weights.NOPE'"):
        fetch("torchvision://ResNet18_Weights.NOPE")


def test_sources_survive_a_path_typed_option() -> None:
    from pathlib import Path as P

    from taokit.hub.sources import is_remote, normalise

    assert normalise(P("ngc://nvidia/tao/x:v/f.onnx")) == "ngc://nvidia/tao/x:v/f.onnx"
    assert normalise(P("https://host/a/b.pth")) == "https://host/a/b.pth"
    assert not is_remote(P("models/ngc_model.onnx"))


def test_requests_go_through_the_users_proxy(server, registry: Registry, monkeypatch, tmp_path: Path) -> None:
    """NGC's host does not resolve here; the files arrive only because the proxy (our server) relays them."""
    monkeypatch.setenv("TAOKIT_NGC_URL", "http://ngc.invalid")
    monkeypatch.setenv("HTTP_PROXY", server)
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("no_proxy", raising=False)
    result = run_cli("model", "download", f"{PEOPLENET}:{VERSION}", "--file", "labels.txt")
    assert result.exit_code == 0, result.output
    assert all(r.startswith("http://ngc.invalid/") for r in registry.requests)  # absolute URIs: a proxy's requests
    assert "downloaded" in result.output  # one plain line per file off a terminal


def test_unreadable_ca_bundle_and_full_disk_are_one_line(server, monkeypatch, tmp_path: Path) -> None:
    import shutil
    from collections import namedtuple

    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    bad_ca = run_cli("model", "download", f"{PEOPLENET}:{VERSION}")
    assert bad_ca.exit_code == 2 and "SSL_CERT_FILE" in bad_ca.stderr and "Traceback" not in bad_ca.output
    monkeypatch.delenv("SSL_CERT_FILE")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9, 1000))
    full = run_cli("model", "download", f"{PEOPLENET}:{VERSION}")
    assert full.exit_code == 2 and "MB free" in full.stderr and "TAOKIT_HOME" in full.stderr
