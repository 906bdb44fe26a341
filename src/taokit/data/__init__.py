"""Dataset readers and image sources. Never imports tasks/: tasks turn records into tensors."""
