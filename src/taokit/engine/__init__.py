"""Task-independent machinery: the fit loop, schedules, checkpoints, status.json, progress, files."""
