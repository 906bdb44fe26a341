"""Turning trained models into deployable ones: ONNX export, INT8 (ONNX Runtime, TensorRT), pruning."""
