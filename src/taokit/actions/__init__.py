"""One module per action verb; each `run()` takes a task name and plain arguments and returns a Result."""
