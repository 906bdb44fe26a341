"""Backbones shared by the tasks, built from torchvision blocks (never downloaded: weights=None)."""
