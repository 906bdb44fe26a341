"""`--backend auto`'s rule and the OpenVINO backend's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from taokit.errors import UsageError
from taokit.runtime import inventory
from taokit.runtime.select import auto_backend, backend_for


@pytest.mark.parametrize("installed, isa, expected", [
    (True, ["avx512_vnni", "avx512f", "avx2"], "openvino"),
    (True, ["avx2"], "onnxruntime"),  # measured: no gain on AVX2-only CPUs
    (False, ["avx512f"], "onnxruntime"),
])
def test_auto_sends_onnx_on_the_cpu_by_a_fixed_rule(monkeypatch, installed: bool, isa: list[str],
                                                     expected: str) -> None:
    monkeypatch.setattr(inventory, "openvino_info", lambda: {"version": "2026.4"} if installed else {})
    monkeypatch.setattr(inventory, "cpu_isa", lambda: isa)
    assert auto_backend(Path("m.onnx"), "cpu") == expected
    assert backend_for(Path("m.onnx"), "auto", "cpu") == expected
    assert auto_backend(Path("m.pth"), "cpu") == "torch" and auto_backend(Path("m.engine"), "cpu") == "tensorrt"
    assert auto_backend(Path("m.onnx"), "cuda:0") == "onnxruntime"


def test_unknown_backend_and_precision_are_one_line(monkeypatch) -> None:
    with pytest.raises(UsageError, match="choose one of torch, onnxruntime, openvino, tensorrt, auto"):
        backend_for(Path("m.onnx"), "openvno")
    from taokit.runtime.openvino_backend import _precision

    monkeypatch.setenv("TAOKIT_OPENVINO_PRECISION", "fp8")
    with pytest.raises(UsageError, match="TAOKIT_OPENVINO_PRECISION=fp8"):
        _precision()
    monkeypatch.setenv("TAOKIT_OPENVINO_PRECISION", "BF16")
    assert _precision() == "bf16"


def test_cpu_isa_reads_known_flags_only() -> None:
    assert set(inventory.cpu_isa()) <= set(inventory.ISA_FLAGS)
