"""``neurostack model upload|list|show`` and ``neurostack infer``."""

import typer


def register(app: typer.Typer) -> None:
    """Add the model commands to the top-level app."""
