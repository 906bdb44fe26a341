"""Image classification (TAO classification_tf1 / classification_pyt)."""
