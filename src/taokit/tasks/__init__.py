"""Tasks: one folder each (spec schemas, model, data, metrics) behind the Task protocol in base.py."""
