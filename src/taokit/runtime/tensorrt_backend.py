"""TensorRT engines as a Backend, through the named-tensor API and torch CUDA memory (no pycuda)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from taokit.errors import ModelError, UsageError, first_line
from taokit.runtime.base import ModelIO
from taokit.runtime.devices import pick_device
from taokit.runtime.tensorrt_import import import_tensorrt

_TORCH_DTYPES = {"FLOAT": torch.float32, "HALF": torch.float16, "BF16": torch.bfloat16, "INT8": torch.int8,
                 "UINT8": torch.uint8, "INT32": torch.int32, "INT64": torch.int64, "BOOL": torch.bool}


class TensorRTBackend:
    """Runs a serialized engine (.engine/.plan) with one image input; outputs come back as float32.

    `trt` replaces `import tensorrt` and `require_gpu=False` allows a CPU device: both exist only so
    that tests can drive this class with a fake TensorRT.
    """

    name = "tensorrt"

    def __init__(self, path: Path, device: str | None = None, *, trt: ModuleType | None = None,
                 require_gpu: bool = True) -> None:
        self._trt = trt if trt is not None else import_tensorrt("running a TensorRT engine")
        self.device = pick_device(device, cuda_only=True) if require_gpu else torch.device(device or "cpu")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)  # TensorRT deserializes onto the current device
        self.path = Path(path)
        self.version = str(self._trt.__version__)
        self.engine = self._deserialize(self.path.read_bytes())
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise ModelError(f"{self.path}: TensorRT could not create an execution context (out of GPU memory?)")
        self.io, self._max_batch = self._describe()
        self._dtypes = {n: self._torch_dtype(n) for n in (self.io.input_name, *self.io.output_names)}

    def _deserialize(self, data: bytes) -> Any:
        kind = _not_an_engine(data)
        if kind:
            raise ModelError(f"{self.path}: {kind}, not a TensorRT engine; build one with gen_trt_engine")
        runtime = self._trt.Runtime(self._trt.Logger(self._trt.Logger.WARNING))
        try:
            engine = runtime.deserialize_cuda_engine(data)
        except Exception as err:  # noqa: BLE001 - bindings raise several types for corrupt plans
            raise ModelError(f"{self.path}: not a TensorRT engine ({first_line(err, 120)})") from None
        if engine is None and _is_onnx(data):
            raise ModelError(f"{self.path}: an ONNX model, not a TensorRT engine; build one with gen_trt_engine")
        if engine is None:
            raise ModelError(f"{self.path}: TensorRT {self.version} cannot load this engine: it was built with "
                             "another TensorRT version or for another GPU; rebuild it here with gen_trt_engine")
        self._runtime = runtime  # the engine must not outlive its runtime
        return engine

    def _describe(self) -> tuple[ModelIO, int]:
        """The ModelIO of the engine, and the largest batch one execution accepts."""
        engine, trt = self.engine, self._trt
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = tuple(n for n in names if n not in inputs)
        if len(inputs) != 1:
            raise ModelError(f"{self.path}: expected one image input, found {len(inputs)}: {', '.join(inputs)}")
        shape = tuple(int(d) for d in engine.get_tensor_shape(inputs[0]))
        if len(shape) != 4:
            raise ModelError(f"{self.path}: expected an NCHW input, '{inputs[0]}' has shape {shape}")
        batch = shape[0] if shape[0] > 0 else None
        chw = tuple(d if d > 0 else None for d in shape[1:])
        max_batch = batch or int(engine.get_tensor_profile_shape(inputs[0], 0)[2][0])
        channels = tuple(_channels(engine.get_tensor_shape(n)) for n in outputs)
        io = ModelIO(inputs[0], outputs, (chw[0], chw[1], chw[2]), batch, {"tensorrt_version": self.version},
                     channels)
        return io, max_batch

    def _torch_dtype(self, name: str) -> torch.dtype:
        dtype = self.engine.get_tensor_dtype(name)
        for key, value in _TORCH_DTYPES.items():
            if getattr(self._trt.DataType, key, None) == dtype:
                return value
        raise ModelError(f"{self.path}: tensor '{name}' has TensorRT type {dtype}, which taokit cannot feed or read")

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run any batch size: batches larger than the engine's profile run in chunks."""
        step = self._max_batch
        parts = [self._run(batch[start : start + step]) for start in range(0, len(batch), step)]
        return [np.concatenate([p[i] for p in parts]) for i in range(len(self.io.output_names))]

    def _run(self, batch: np.ndarray) -> list[np.ndarray]:
        count = len(batch)
        if self.io.batch is not None and count < self.io.batch:  # a static engine takes exactly its batch
            batch = np.concatenate([batch, np.zeros((self.io.batch - count, *batch.shape[1:]), batch.dtype)])
        name, ctx = self.io.input_name, self.context
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, self._dtypes[name]).contiguous()
        if not ctx.set_input_shape(name, tuple(x.shape)):
            raise UsageError(f"{self.path}: input of shape {tuple(x.shape)} is outside the engine's "
                             "optimization profile; rebuild it with gen_trt_engine --max_batch_size")
        ctx.set_tensor_address(name, int(x.data_ptr()))
        outputs = []
        for out in self.io.output_names:
            tensor = torch.empty(tuple(ctx.get_tensor_shape(out)), dtype=self._dtypes[out], device=self.device)
            ctx.set_tensor_address(out, int(tensor.data_ptr()))
            outputs.append(tensor)
        stream = torch.cuda.current_stream(self.device) if self.device.type == "cuda" else None
        if not ctx.execute_async_v3(stream.cuda_stream if stream is not None else 0):
            raise ModelError(f"{self.path}: TensorRT failed to execute the engine (its log says why)")
        if stream is not None:
            stream.synchronize()
        return [t.float().cpu().numpy()[:count] for t in outputs]

    def close(self) -> None:
        self.context = None
        self.engine = None


def _not_an_engine(data: bytes) -> str:
    """Name the kind of a file that is plainly not an engine ('' when it may be one)."""
    if not data:
        return "an empty file"
    if data[:4] == b"PK\x03\x04":
        return "a zip archive (a PyTorch checkpoint?)"
    return ""


def _is_onnx(data: bytes) -> bool:
    """True for an ONNX model: checked only after TensorRT refused the file, to say what it is."""
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # noqa: BLE001 - anything unparsable is simply not ONNX
        return False
    return model.ir_version > 0 and len(model.graph.node) > 0


def _channels(shape: object) -> int | None:
    """Dim 1 of an engine tensor shape, None when dynamic or absent."""
    dims = [int(d) for d in shape]  # type: ignore[attr-defined]
    return dims[1] if len(dims) > 1 and dims[1] > 0 else None
