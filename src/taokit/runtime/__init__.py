"""Runtimes that execute models: torch, ONNX Runtime and TensorRT behind one Backend protocol."""
