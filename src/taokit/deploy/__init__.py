"""Files deployment tools read: DeepStream nvinfer configs, labels, Triton model repositories."""
