"""Commented default LaneNet specs, written by `tao lanenet default_specs -r DIR`."""
