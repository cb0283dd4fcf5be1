"""Run the command line as ``python -m siting``."""

from siting.cli import main

main()
