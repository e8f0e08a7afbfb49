"""The ``neurostack`` command: composes one Typer app per command group.

Every ``neurostack`` process builds this app, the services of ``neurostack up`` (node, hub,
sprinter workers, explorer) too, so the command modules import only typer, rich and the
standard library; a command imports what it needs when it runs (docs/quality.md,
"Start-up"; tests/cli/test_startup.py).
"""

import typer

from . import chain, contracts, demo, explorer, hub, model, verify

app = typer.Typer(
    name="neurostack",
    help="Neuro Stack: rollups whose contracts call ML models.",
    no_args_is_help=True,
    add_completion=False,
)
chain.register(app)  # new, up, node, demo
demo.register(app)  # demo
contracts.register(app)  # compile
model.register(app)  # model upload|list|show, infer
verify.register(app)  # verify-inference
app.add_typer(hub.app, name="hub")
explorer.register(app)  # explorer
