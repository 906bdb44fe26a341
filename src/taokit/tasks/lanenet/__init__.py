"""LaneNet lane detection (not built yet: every action reports that it is not available)."""
