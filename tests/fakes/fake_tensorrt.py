"""A FAKE `tensorrt` module for CPU-only tests. It is not TensorRT and proves nothing about TensorRT.

It mirrors exactly the API surface taokit uses (builder, ONNX parser, builder config, optimization
profiles, the INT8 entropy calibrator protocol, runtime, engine and execution context), for
TensorRT 10.x or 11.x: `make_fake_tensorrt("11.4.0")` has no precision flags, no calibrator classes
and no `set_calibration_profile`, as TensorRT 11 removed them. Every call is recorded in
`fake.record` so tests can check what taokit asked for. The parser reads the real ONNX (with the
onnx package) to learn inputs, outputs and whether the graph has Q/DQ or FP16. A built "engine" is
`FAKE-TRT-ENGINE\\n` + JSON describing what was built; the fake runtime loads only engines that
carry its own version. Executing an engine on CPU tensors writes, for every output element of image
i, the mean of input image i, so tests can see data flow through the backend.
"""

from __future__ import annotations

import ctypes
import enum
import json
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

MAGIC = b"FAKE-TRT-ENGINE\n"
DEFAULT_UNSUPPORTED = frozenset({"Unique", "ConvInteger", "MatMulInteger", "QLinearConv"})


@dataclass
class FakeRecord:
    """What taokit did to the fake, in order."""

    network_flags: list[int] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    flags_set: list[str] = field(default_factory=list)
    pool_limits: dict[str, int] = field(default_factory=dict)
    profiles: list[dict[str, tuple]] = field(default_factory=list)
    calibration_profile: dict[str, tuple] | None = None
    calibrator: Any = None
    calibration_batch_size: int | None = None
    calibration_pointers: list[list[int]] = field(default_factory=list)
    cache_reads: list[bytes | None] = field(default_factory=list)
    cache_writes: list[bytes] = field(default_factory=list)
    built: list[dict[str, Any]] = field(default_factory=list)
    input_shapes: list[tuple] = field(default_factory=list)
    addresses: dict[str, int] = field(default_factory=dict)
    executions: int = 0


class DataType(enum.Enum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    BF16 = 7
    INT64 = 8


class TensorIOMode(enum.Enum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


class MemoryPoolType(enum.Enum):
    WORKSPACE = 0


class Logger:
    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = range(5)

    def __init__(self, min_severity: int = 2) -> None:
        self.min_severity = min_severity


@dataclass
class FakeTensor:
    name: str
    shape: tuple[int, ...]
    dtype: DataType


_ONNX_TO_TRT = {onnx.TensorProto.FLOAT: DataType.FLOAT, onnx.TensorProto.FLOAT16: DataType.HALF,
                onnx.TensorProto.INT64: DataType.INT64, onnx.TensorProto.INT32: DataType.INT32}


def _tensor(value: onnx.ValueInfoProto) -> FakeTensor:
    dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim)
    return FakeTensor(value.name, dims, _ONNX_TO_TRT.get(value.type.tensor_type.elem_type, DataType.FLOAT))


class FakeNetwork:
    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.inputs: list[FakeTensor] = []
        self.outputs: list[FakeTensor] = []
        self.qdq = self.fp16 = False

    @property
    def num_inputs(self) -> int:
        return len(self.inputs)

    @property
    def num_outputs(self) -> int:
        return len(self.outputs)

    def get_input(self, i: int) -> FakeTensor:
        return self.inputs[i]

    def get_output(self, i: int) -> FakeTensor:
        return self.outputs[i]


class FakeParserError:
    def __init__(self, node: int, desc: str) -> None:
        self._node, self._desc = node, desc

    def desc(self) -> str:
        return self._desc

    def node(self) -> int:
        return self._node

    def __str__(self) -> str:
        return f"In node {self._node} with name: and operator: (parseGraph): {self._desc}"


class FakeProfile:
    def __init__(self) -> None:
        self.shapes: dict[str, tuple] = {}

    def set_shape(self, name: str, low: tuple, opt: tuple, high: tuple) -> None:
        self.shapes[name] = (tuple(low), tuple(opt), tuple(high))


class _Bound:
    """Base of the classes bound to one fake module (`_fake`), so each fake records separately."""

    __slots__ = ()
    _fake: Any


class FakeOnnxParser(_Bound):
    def __init__(self, network: FakeNetwork, logger: Logger) -> None:
        self.network = network
        self.errors: list[FakeParserError] = []

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    def get_error(self, i: int) -> FakeParserError:
        return self.errors[i]

    def parse(self, model: bytes, path: str | None = None) -> bool:
        self._fake.record.parsed.append(path or "<bytes>")
        try:
            proto = onnx.load_model_from_string(bytes(model))
        except Exception:  # noqa: BLE001
            self.errors.append(FakeParserError(-1, "Failed to parse ONNX model from the buffer"))
            return False
        for index, node in enumerate(proto.graph.node):
            if node.op_type in self._fake.unsupported or node.domain not in ("", "ai.onnx"):
                self.errors.append(FakeParserError(index, f"No importer registered for op: {node.op_type}"))
        if self.errors:
            return False
        weights = {t.name for t in proto.graph.initializer}
        self.network.inputs = [_tensor(v) for v in proto.graph.input if v.name not in weights]
        self.network.outputs = [_tensor(v) for v in proto.graph.output]
        ops = {n.op_type for n in proto.graph.node}
        self.network.qdq = bool(ops & {"QuantizeLinear", "DequantizeLinear"})
        self.network.fp16 = any(t.dtype == DataType.HALF for t in self.network.inputs) or any(
            t.data_type == onnx.TensorProto.FLOAT16 for t in proto.graph.initializer)
        return True


class FakeConfig11(_Bound):
    """TensorRT 11's builder config: no precision flags, no calibrator, no calibration profile."""

    __slots__ = ("flags", "profiles")

    def __init__(self) -> None:
        self.flags: set[Any] = set()
        self.profiles: list[FakeProfile] = []

    def set_memory_pool_limit(self, pool: MemoryPoolType, size: int) -> None:
        self._fake.record.pool_limits[pool.name] = size

    def set_flag(self, flag: Any) -> None:
        self.flags.add(flag)
        self._fake.record.flags_set.append(flag.name)

    def get_flag(self, flag: Any) -> bool:
        return flag in self.flags

    def add_optimization_profile(self, profile: FakeProfile) -> int:
        self.profiles.append(profile)
        self._fake.record.profiles.append(dict(profile.shapes))
        return len(self.profiles) - 1


class FakeConfig10(FakeConfig11):
    __slots__ = ("int8_calibrator", "calibration_profile")

    def __init__(self) -> None:
        super().__init__()
        self.int8_calibrator: Any = None
        self.calibration_profile: FakeProfile | None = None

    def set_calibration_profile(self, profile: FakeProfile) -> bool:
        self.calibration_profile = profile
        self._fake.record.calibration_profile = dict(profile.shapes)
        return True


class FakeBuilder(_Bound):
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def create_network(self, flags: int = 0) -> FakeNetwork:
        self._fake.record.network_flags.append(flags)
        return FakeNetwork(flags)

    def create_builder_config(self) -> FakeConfig11:
        return self._fake.Config()

    def create_optimization_profile(self) -> FakeProfile:
        return FakeProfile()

    def build_serialized_network(self, network: FakeNetwork, config: FakeConfig11) -> memoryview | None:
        fake = self._fake
        if fake.fail_build or not network.inputs:
            return None
        dynamic = any(-1 in t.shape for t in network.inputs)
        if dynamic and not config.profiles:
            return None  # TensorRT: "Network has dynamic or shape inputs, but no optimization profile"
        strongly_typed = fake.major >= 11 or bool(network.flags & (1 << 1))
        precision = self._precision(network, config, strongly_typed)
        if precision == "int8" and not network.qdq and not self._calibrate(network, config):
            return None
        profiles = {n: [list(s) for s in shapes] for p in config.profiles for n, shapes in p.shapes.items()}
        description = {"version": fake.__version__, "precision": precision, "strongly_typed": strongly_typed,
                       "inputs": [[t.name, list(t.shape), t.dtype.name] for t in network.inputs],
                       "outputs": [[t.name, list(t.shape), t.dtype.name] for t in network.outputs],
                       "profiles": profiles}
        fake.record.built.append(description)
        return memoryview(engine_bytes(description))

    def _precision(self, network: FakeNetwork, config: FakeConfig11, strongly_typed: bool) -> str:
        if strongly_typed:
            return "int8" if network.qdq else "fp16" if network.fp16 else "fp32"
        names = {f.name for f in config.flags}
        return "int8" if "INT8" in names else "fp16" if "FP16" in names else "fp32"

    def _calibrate(self, network: FakeNetwork, config: FakeConfig10) -> bool:
        """The calibrator protocol: cache first; else batches until None, then write a cache."""
        record, calibrator = self._fake.record, config.int8_calibrator
        record.calibrator = calibrator
        if calibrator is None:
            return False  # TensorRT: "Calibration failure occurred with no scaling factors detected"
        cache = calibrator.read_calibration_cache()
        record.cache_reads.append(None if cache is None else bytes(cache))
        header = f"TRT-{self._fake.version_number}-EntropyCalibration2"
        if cache is not None and bytes(cache).decode().splitlines()[0] == header:
            return True
        record.calibration_batch_size = calibrator.get_batch_size()
        while (pointers := calibrator.get_batch([t.name for t in network.inputs])) is not None:
            record.calibration_pointers.append(list(pointers))
        if not record.calibration_pointers:
            return False
        lines = [header] + [f"{t.name}: 3c010a14" for t in network.inputs + network.outputs]
        written = ("\n".join(lines) + "\n").encode()
        calibrator.write_calibration_cache(memoryview(written))
        record.cache_writes.append(written)
        return True


class FakeRuntime(_Bound):
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, data: bytes) -> FakeEngine | None:
        description = read_engine(bytes(data))
        if description is None or description["version"] != self._fake.__version__:
            return None  # what TensorRT does for a foreign plan: log an error, return None
        return FakeEngine(self._fake, description)


class FakeEngine:
    def __init__(self, fake: Any, description: dict[str, Any]) -> None:
        self._fake, self.description = fake, description
        self._tensors = {name: (TensorIOMode.INPUT, tuple(shape), DataType[dtype])
                         for name, shape, dtype in description["inputs"]}
        self._tensors.update({name: (TensorIOMode.OUTPUT, tuple(shape), DataType[dtype])
                              for name, shape, dtype in description["outputs"]})

    @property
    def num_io_tensors(self) -> int:
        return len(self._tensors)

    def get_tensor_name(self, i: int) -> str:
        return list(self._tensors)[i]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return self._tensors[name][0]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return self._tensors[name][1]

    def get_tensor_dtype(self, name: str) -> DataType:
        return self._tensors[name][2]

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list[tuple[int, ...]]:
        return [tuple(s) for s in self.description["profiles"][name]]

    def create_execution_context(self) -> FakeContext:
        return FakeContext(self)


class FakeContext:
    """Execution on host memory: every output element of image i becomes the mean of input image i."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine, self.record = engine, engine._fake.record
        self.shapes: dict[str, tuple[int, ...]] = {}

    def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
        self.record.input_shapes.append(tuple(shape))
        declared = self.engine.get_tensor_shape(name)
        if len(shape) != len(declared) or any(d not in (-1, s) for d, s in zip(declared, shape, strict=True)):
            return False
        profile = self.engine.description["profiles"].get(name)
        if profile and not profile[0][0] <= shape[0] <= profile[2][0]:
            return False
        self.shapes[name] = tuple(shape)
        return True

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        if name in self.shapes:
            return self.shapes[name]
        batch = next(iter(self.shapes.values()))[0]
        return tuple(batch if d == -1 else d for d in self.engine.get_tensor_shape(name))

    def set_tensor_address(self, name: str, address: int) -> bool:
        self.record.addresses[name] = address
        return True

    def execute_async_v3(self, stream_handle: int) -> bool:
        self.record.executions += 1
        (name, shape), = self.shapes.items()
        images = copy_from(self.record.addresses[name], int(np.prod(shape))).reshape(shape[0], -1)
        means = images.mean(axis=1)
        for out, (mode, _, _) in self.engine._tensors.items():
            if mode == TensorIOMode.OUTPUT:
                out_shape = self.get_tensor_shape(out)
                values = np.broadcast_to(means.reshape(-1, *[1] * (len(out_shape) - 1)), out_shape)
                copy_to(self.record.addresses[out], values)
        return True

def make_fake_tensorrt(version: str = "10.3.0", *, unsupported: frozenset[str] = DEFAULT_UNSUPPORTED,
                       fail_build: bool = False) -> types.ModuleType:
    """A fresh fake module; `unsupported` ops make the parser fail, `fail_build` makes builds return None."""
    major, minor, patch = (int(p) for p in (version.split(".") + ["0", "0"])[:3])
    fake = types.ModuleType("tensorrt")
    fake.__doc__ = "FAKE tensorrt for tests"
    fake.__version__ = version
    fake.major = major
    fake.version_number = major * (10000 if major >= 10 else 1000) + minor * 100 + patch
    fake.record = FakeRecord()
    fake.unsupported = set(unsupported)
    fake.fail_build = fail_build
    for cls in (DataType, TensorIOMode, MemoryPoolType, Logger):
        setattr(fake, cls.__name__, cls)
    bound = {"_fake": fake}
    fake.Builder = type("Builder", (FakeBuilder,), bound)
    fake.OnnxParser = type("OnnxParser", (FakeOnnxParser,), bound)
    fake.Runtime = type("Runtime", (FakeRuntime,), bound)
    if major >= 11:
        fake.Config = type("IBuilderConfig", (FakeConfig11,), {"__slots__": (), **bound})
        fake.NetworkDefinitionCreationFlag = enum.IntEnum("NetworkDefinitionCreationFlag", {"STRONGLY_TYPED": 1})
        fake.BuilderFlag = enum.Enum("BuilderFlag", {"REFIT": 1, "STRIP_PLAN": 2})
    else:
        fake.Config = type("IBuilderConfig", (FakeConfig10,), {"__slots__": (), **bound})
        fake.NetworkDefinitionCreationFlag = enum.IntEnum("NetworkDefinitionCreationFlag",
                                                          {"EXPLICIT_BATCH": 0, "STRONGLY_TYPED": 1})
        fake.BuilderFlag = enum.Enum("BuilderFlag", {"FP16": 0, "INT8": 1, "REFIT": 2, "STRIP_PLAN": 3})
        fake.IInt8EntropyCalibrator2 = type("IInt8EntropyCalibrator2", (), {"__init__": lambda self: None})
    return fake


def engine_bytes(description: dict[str, Any]) -> bytes:
    return MAGIC + json.dumps(description).encode()


def read_engine(data: bytes) -> dict[str, Any] | None:
    return json.loads(data[len(MAGIC):]) if data.startswith(MAGIC) else None


def copy_from(address: int, count: int) -> np.ndarray:
    """`count` float32 values at a CPU address (the fake 'device' memory is host memory in tests)."""
    return np.ctypeslib.as_array((ctypes.c_float * count).from_address(address)).copy()


def copy_to(address: int, values: np.ndarray) -> None:
    data = np.ascontiguousarray(values, dtype=np.float32)
    ctypes.memmove(address, data.ctypes.data, data.nbytes)
