"""``python -m harness`` is the ``ladder`` command."""

from harness.cli import main

main()
