"""Plumbing every task uses the same way: model files, runners, training pieces, recorded specs."""
