"""Import NVIDIA's published TAO ResNet models (Keras .hdf5, deployable .onnx) into taokit networks."""
