"""`python -m pinads` runs the CLI."""

from pinads.cli import main

main()
