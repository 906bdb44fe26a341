"""Tasks (detectnet, lanenet, classification): each one brings its spec schema, model, data and metrics."""
