"""taokit: an open-source replacement for the NVIDIA TAO Toolkit workflow."""

__version__ = "0.1.0"
