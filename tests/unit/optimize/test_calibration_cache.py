"""The TensorRT calibration cache text format, checked against values seen in real TAO/NGC caches."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from taokit.errors import ExportError
from taokit.optimize.calibration_cache import (
    cache_bytes_for,
    read_calibration_cache,
    scale_hex,
    trt_version_number,
    write_calibration_cache,
)


@pytest.mark.parametrize(("version", "number"), [("10.3.0", 100300), ("8.6.1", 8601), ("7.1.3", 7103),
                                                 ("8.5.2", 8502), ("10.3.0.26", 100300), ("11.4.0.106", 110400)])
def test_version_numbers_follow_tensorrt_headers(version: str, number: int) -> None:
    assert trt_version_number(version) == number


def test_bad_version_is_one_line_error() -> None:
    with pytest.raises(ExportError, match="expected MAJOR.MINOR.PATCH") as err:
        trt_version_number("ten")
    assert "\n" not in str(err.value)


def test_header_for_8_6_1_and_10_3_0(tmp_path: Path) -> None:
    for version, header in (("8.6.1", "TRT-8601-EntropyCalibration2"), ("10.3.0", "TRT-100300-EntropyCalibration2")):
        path = write_calibration_cache(tmp_path / f"{version}.bin", {"input_1": 1.0}, version)
        assert path.read_text().splitlines()[0] == header


def test_known_values_match_tao() -> None:
    assert scale_hex(1.0) == "3f800000"
    assert scale_hex(1 / 127) == "3c010204"
    # TAO's expression, for comparison, on positive scales of every magnitude used in practice
    for scale in (1 / 127, 0.5, 3.0e-5, 12.7, 1e-20):
        tao = hex(struct.unpack("i", struct.pack("f", scale))[0])[2:]
        assert scale_hex(scale) == tao == struct.pack(">f", scale).hex()


def test_zero_scale_drops_leading_zeros_like_tao() -> None:
    assert scale_hex(0.0) == "0" == hex(struct.unpack("i", struct.pack("f", 0.0))[0])[2:]


def test_ngc_line_decodes(tmp_path: Path) -> None:
    path = tmp_path / "cal.bin"
    path.write_text("TRT-100300-EntropyCalibration2\ninput_1: 3c010a14\nconv1/convolution:0: 3d0b7086\n")
    cache = read_calibration_cache(path)
    assert (cache.version, cache.algorithm) == (100300, "EntropyCalibration2")
    assert cache.scales["input_1"] == pytest.approx(0.0078759, abs=1e-6)
    assert cache.amax["input_1"] == pytest.approx(1.0002, abs=1e-4)
    assert "conv1/convolution:0" in cache.scales  # names may contain ':'


def test_round_trip(tmp_path: Path) -> None:
    amax = {"input_1": 1.0, "/body/body.0/Conv_output_0": 6.25, "output_cov": 0.999, "zero": 0.0}
    path = write_calibration_cache(tmp_path / "cal.bin", amax, "10.3.0")
    cache = read_calibration_cache(path)
    assert list(cache.scales) == list(amax)
    for name, value in amax.items():
        assert cache.amax[name] == pytest.approx(value, rel=1e-6)
    assert path.read_text().endswith("\n")
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left nothing behind


@pytest.mark.parametrize(("text", "where"), [
    ("", ":1: expected a header"),
    ("TRT-100300\ninput: 3c010a14\n", ":1: expected a header"),
    ("TRT-100300-EntropyCalibration2\ninput 3c010a14\n", ":2: expected '<tensor name>: <hex scale>'"),
    ("TRT-100300-EntropyCalibration2\ninput: 3c01zz14\n", ":2: expected"),
    ("TRT-100300-EntropyCalibration2\ninput: 3c010a14\nout: 123456789\n", ":3: expected"),
    ("TRT-100300-EntropyCalibration2\ninput: 3c010a14\ninput: 3c010a14\n", ":3: tensor 'input' appears twice"),
    ("TRT-100300-EntropyCalibration2\ninput: 7fc00000\n", ":2: tensor 'input' has scale nan"),
])
def test_malformed_files_name_the_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "cal.bin"
    path.write_text(text)
    with pytest.raises(ExportError) as err:
        read_calibration_cache(path)
    assert f"{path}{where}" in str(err.value)
    assert "\n" not in str(err.value)


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "cal.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ExportError, match="binary content"):
        read_calibration_cache(binary)
    with pytest.raises(ExportError, match="not found"):
        read_calibration_cache(tmp_path / "missing.bin")


def test_bad_ranges_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="tensor 'x' has calibration range nan"):
        write_calibration_cache(tmp_path / "cal.bin", {"x": float("nan")}, "10.3.0")
    with pytest.raises(ExportError, match="choose one of"):
        write_calibration_cache(tmp_path / "cal.bin", {"x": 1.0}, "10.3.0", algorithm="Percentile")


def test_cache_for_another_version_gets_this_header(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cal.bin"
    path.write_text("TRT-8600-EntropyCalibration2\ninput_1: 3c010a14\n")
    data = cache_bytes_for(path, "10.3.0")
    assert data == b"TRT-100300-EntropyCalibration2\ninput_1: 3c010a14\n"
    assert "rewriting its header" in caplog.text
    assert cache_bytes_for(path, "8.6.0") == path.read_bytes()


def test_cache_of_another_calibrator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cal.bin"
    path.write_text("TRT-100300-MinMaxCalibration\ninput_1: 3c010a14\n")
    assert read_calibration_cache(path).algorithm == "MinMaxCalibration"
    with pytest.raises(ExportError, match="MinMaxCalibration cache"):
        cache_bytes_for(path, "10.3.0")
