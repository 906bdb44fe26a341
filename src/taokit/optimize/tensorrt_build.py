"""Build a TensorRT engine from ONNX: TensorRT 10 (builder flags, INT8 calibrator) or 11 (strongly typed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx

from taokit.engine.files import atomic_write_with
from taokit.errors import DependencyError, ExportError, UsageError
from taokit.optimize.int8_files import int8_onnx_paths
from taokit.optimize.tensorrt_calibrator import ToDevice, make_entropy_calibrator
from taokit.optimize.tensorrt_ops import has_qdq, is_fp16_graph, load_onnx, unsupported_ops
from taokit.runtime.tensorrt_import import INSTALL_HINT, import_tensorrt

log = logging.getLogger("taokit.export")

DATA_TYPES = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class EngineRequest:
    """What gen_trt_engine was asked for. `calibration` returns float32 NCHW batches on each call."""

    onnx_path: Path
    engine_path: Path
    data_type: str = "fp32"
    cal_cache: Path | None = None
    calibration: Callable[[], Iterator[np.ndarray]] | None = None
    cal_batch_size: int = 8
    min_batch: int = 1
    opt_batch: int = 1
    max_batch: int = 1
    workspace_gib: float = 2.0
    input_name: str | None = None
    input_chw: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.data_type not in DATA_TYPES:
            raise UsageError(f"--data_type {self.data_type}: choose fp32, fp16 or int8")
        if not 1 <= self.min_batch <= self.opt_batch <= self.max_batch:
            raise UsageError(f"batch sizes min {self.min_batch} / opt {self.opt_batch} / max {self.max_batch}: "
                             "need 1 <= --min_batch_size <= --opt_batch_size <= --max_batch_size")
        if self.cal_batch_size < 1 or self.workspace_gib <= 0:
            raise UsageError("--batch_size and --max_workspace_size must be positive")


@dataclass(frozen=True)
class EngineReport:
    """What was built: where, by which TensorRT, in which precision, and by which route."""

    path: Path
    tensorrt_version: str
    precision: str
    route: str
    size_bytes: int
    calibration_batches: int = 0

    def summary(self) -> str:
        return (f"{self.path} ({self.size_bytes / 2**20:.1f} MiB): TensorRT {self.tensorrt_version}, "
                f"{self.precision}, {self.route}")


@dataclass(frozen=True)
class _Input:
    name: str
    chw: tuple[int, int, int]
    static_batch: int | None
    dynamic: bool


def require_cuda(action: str = "gen_trt_engine") -> None:
    """TensorRT builds for the GPU it runs on, so building without one can only fail later and less clearly."""
    import torch

    if not torch.cuda.is_available():
        raise DependencyError(f"{action} needs an NVIDIA GPU and none is visible here (torch.cuda.is_available() "
                              "is False); run it on the deployment machine")


def build_engine(request: EngineRequest, *, trt: ModuleType | None = None, require_gpu: bool = True,
                 to_device: ToDevice | None = None) -> EngineReport:
    """Build and write the engine `request` describes; the route follows the TensorRT major version.

    `trt` replaces `import tensorrt` (tests pass a fake); `require_gpu=False` skips the CUDA check and
    `to_device` replaces the CUDA upload of calibration batches, both for tests only.
    """
    trt = trt if trt is not None else import_tensorrt("gen_trt_engine")
    if require_gpu:
        require_cuda()
    version = str(trt.__version__)
    major = int(version.split(".")[0])
    model = load_onnx(request.onnx_path)
    flags = _network_flags(trt, request, model)  # refuses what TensorRT 11 cannot build before any GPU work
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(flags)
    parser = _parse(trt, network, logger, request.onnx_path, model)  # noqa: F841 - owns the weights until built
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(request.workspace_gib * 2**30))
    tensor = _network_input(network, request)
    if tensor.dynamic:
        _add_profile(builder, config, tensor, _batch_range(request, tensor))
    if major >= 11:
        precision, route, calibrator = _strongly_typed_precision(model), "strongly typed (precision from ONNX)", None
    else:
        precision, route, calibrator = _configure_trt10(trt, builder, config, request, model, tensor, to_device)
    plan = builder.build_serialized_network(network, config)
    if calibrator is not None and calibrator.error is not None:
        raise calibrator.error
    if plan is None:
        raise ExportError(f"{request.onnx_path}: TensorRT {version} could not build the engine; its log above "
                          "says why (try a larger --max_workspace_size or --data_type fp32)")
    atomic_write_with(request.engine_path, lambda handle: handle.write(plan))
    return EngineReport(request.engine_path, version, precision, route, request.engine_path.stat().st_size,
                        calibrator.batches_used if calibrator is not None else 0)


def _network_flags(trt: ModuleType, request: EngineRequest, model: onnx.ModelProto) -> int:
    """0 (weakly typed) on TensorRT 10; STRONGLY_TYPED on 11, after checking the ONNX holds the precision."""
    version = str(trt.__version__)
    major = int(version.split(".")[0])
    if major < 10:
        raise DependencyError(f"TensorRT {version} is too old: taokit builds with TensorRT 10 or 11 ({INSTALL_HINT})")
    if major == 10:
        return 0
    _check_strongly_typed(request, model, version)
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)


def _check_strongly_typed(request: EngineRequest, model: onnx.ModelProto, version: str) -> None:
    """TensorRT 11 removed precision flags and calibrators: the ONNX must already hold the precision."""
    if request.data_type == "int8" and not has_qdq(model):
        raise ExportError(f"{request.onnx_path}: TensorRT {version} builds INT8 only from Q/DQ ONNX (calibrators "
                          f"were removed in TensorRT 11); pass the {int8_onnx_paths(request.onnx_path).tensorrt.name} that "
                          "`export --data_type int8` writes, or install 'tensorrt<11' to use --cal_cache_file")
    if request.data_type == "fp16" and not is_fp16_graph(model):
        raise ExportError(f"{request.onnx_path}: TensorRT {version} is strongly typed and this ONNX is FP32; "
                          "convert it to FP16 first (e.g. NVIDIA ModelOpt AutoCast), build --data_type fp32, "
                          "or install 'tensorrt<11'")
    if request.cal_cache is not None:
        log.warning("TensorRT %s has no INT8 calibrators: --cal_cache_file %s is ignored", version, request.cal_cache)


def _strongly_typed_precision(model: onnx.ModelProto) -> str:
    return "int8" if has_qdq(model) else "fp16" if is_fp16_graph(model) else "fp32"


def _parse(trt: ModuleType, network: Any, logger: Any, path: Path, model: onnx.ModelProto) -> Any:
    """Parse the ONNX into `network`; all parser errors become one line, with ops TensorRT lacks."""
    parser = trt.OnnxParser(network, logger)
    if parser.parse(path.read_bytes(), str(path)):
        return parser
    errors = [str(parser.get_error(i)).strip() for i in range(parser.num_errors)]
    first = errors[0].splitlines()[0][:200] if errors else "no error reported"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    missing = unsupported_ops(model)
    hint = f"; ops TensorRT does not support: {', '.join(missing)}" if missing else ""
    raise ExportError(f"{path}: TensorRT {trt.__version__} cannot parse this ONNX: {first}{more}{hint}")


def _network_input(network: Any, request: EngineRequest) -> _Input:
    """The one NCHW image input, with C, H, W from the network or, where dynamic, from the request."""
    inputs = [network.get_input(i) for i in range(network.num_inputs)]
    if len(inputs) != 1:
        names = ", ".join(t.name for t in inputs)
        raise ExportError(f"{request.onnx_path}: expected one image input, found {len(inputs)}: {names}")
    tensor = inputs[0]
    if request.input_name and tensor.name != request.input_name:
        raise ExportError(f"{request.onnx_path}: the input is named '{tensor.name}', not '{request.input_name}'")
    shape = tuple(int(d) for d in tensor.shape)
    if len(shape) != 4:
        raise ExportError(f"{request.onnx_path}: expected an NCHW input, '{tensor.name}' has shape {shape}")
    chw = shape[1:]
    if any(d < 0 for d in chw):
        if request.input_chw is None:
            raise ExportError(f"{request.onnx_path}: input '{tensor.name}' has dynamic C/H/W {chw}; "
                              "pass the input size (input_chw) to build an optimization profile")
        chw = tuple(request.input_chw)
    elif request.input_chw is not None and tuple(request.input_chw) != chw:
        raise ExportError(f"{request.onnx_path}: input '{tensor.name}' is {chw}, not {tuple(request.input_chw)}")
    batch = shape[0] if shape[0] > 0 else None
    return _Input(tensor.name, (chw[0], chw[1], chw[2]), batch, any(d < 0 for d in shape))


def _batch_range(request: EngineRequest, tensor: _Input) -> tuple[int, int, int]:
    if tensor.static_batch is not None:
        return (tensor.static_batch,) * 3
    return request.min_batch, request.opt_batch, request.max_batch


def _add_profile(builder: Any, config: Any, tensor: _Input, batches: tuple[int, int, int]) -> Any:
    profile = builder.create_optimization_profile()
    low, opt, high = ((b, *tensor.chw) for b in batches)
    profile.set_shape(tensor.name, low, opt, high)
    config.add_optimization_profile(profile)
    return profile


def _configure_trt10(trt: ModuleType, builder: Any, config: Any, request: EngineRequest, model: onnx.ModelProto,
                     tensor: _Input, to_device: ToDevice | None) -> tuple[str, str, Any]:
    """Set TensorRT 10 precision flags; implicit INT8 also gets an entropy calibrator.

    INT8 sets FP16 too, as NVIDIA's samples and tao_deploy do: layers without an INT8 kernel or
    scale then fall back to FP16 rather than FP32.
    """
    if request.data_type == "fp32":
        return "fp32", "TensorRT 10, weakly typed", None
    config.set_flag(trt.BuilderFlag.FP16)
    if request.data_type == "fp16":
        return "fp16", "TensorRT 10, weakly typed", None
    config.set_flag(trt.BuilderFlag.INT8)
    if has_qdq(model):
        return "int8", "TensorRT 10, explicit Q/DQ INT8 (no calibrator)", None
    cache_exists = request.cal_cache is not None and request.cal_cache.is_file()
    if request.calibration is None and not cache_exists:
        raise ExportError(f"{request.onnx_path}: INT8 needs calibration images (--cal_image_dir or the spec's "
                          "training images) or an existing --cal_cache_file")
    batch = tensor.static_batch or request.cal_batch_size
    names = frozenset([*(i.name for i in model.graph.input), *(o for n in model.graph.node for o in n.output)])
    calibrator = make_entropy_calibrator(trt, request.calibration, batch, tensor.chw, request.cal_cache,
                                         str(trt.__version__), to_device, names)
    config.int8_calibrator = calibrator
    if tensor.dynamic:
        profile = builder.create_optimization_profile()
        shape = (batch, *tensor.chw)
        profile.set_shape(tensor.name, shape, shape, shape)
        config.set_calibration_profile(profile)
    route = (f"TensorRT 10, implicit INT8 from calibration cache {request.cal_cache}" if cache_exists
             else "TensorRT 10, implicit INT8 (entropy calibration)")
    return "int8", route, calibrator
