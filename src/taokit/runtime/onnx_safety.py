"""ONNX files from elsewhere are untrusted: their external weights must stay inside the model's folder."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import ModelError


def check_external_data(path: Path) -> None:
    """Refuse an ONNX file whose external-data entries point outside its own folder (../, absolute paths):
    a runtime would otherwise read whatever file they name."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - unreadable files are reported by whoever opens them next
        return
    folder = path.resolve().parent
    tensors = list(model.graph.initializer) + [
        a.t for node in model.graph.node for a in node.attribute if a.HasField("t")]
    for tensor in tensors:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (folder / location).resolve()
        if folder != target and folder not in target.parents:
            raise ModelError(f"{path}: tensor {tensor.name} keeps its data in {location}, outside the model's "
                             "folder; refusing to read it (copy the data file next to the model)")
