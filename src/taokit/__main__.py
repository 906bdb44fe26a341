"""`python -m taokit` runs the CLI."""

from taokit.cli.main import main

main()
