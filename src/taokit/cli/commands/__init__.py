"""One module per action; each registers its command on a task's Typer app."""
