"""``neurostack new``, ``neurostack up``: scaffold and run a chain."""

import typer


def register(app: typer.Typer) -> None:
    """Add the chain commands to the top-level app."""
