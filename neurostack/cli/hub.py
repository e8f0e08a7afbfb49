"""``neurostack hub serve|worker``."""

import typer

app = typer.Typer(help="Run the reference inference hub.", no_args_is_help=True)
