"""``neurostack demo``: example 01 (a contract calls a model) on the running devnet.

The demo is ``examples/01_hello_inference/run.py``, run with this command's options: it
uploads the example's model to the hub, deploys ``HelloInference``, sends a transaction
whose contract calls the model, follows PIPE's status until it is included, and verifies
the inference with ``hub_client``'s light client, next to a local onnxruntime run. Read
that file to see how; this one only finds and runs it. The example ships inside the
package as ``neurostack.examples`` (examples/ mapped in at build time, see setup.py), so
the demo runs the same file from a clone, an editable install or a wheel.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.console import Console

EXAMPLE = Path("01_hello_inference") / "run.py"
DEFAULT_FEATURES = "0.5,-1.25,2.0,0.125"
err = Console(stderr=True, highlight=False, soft_wrap=True)


def example_script() -> Path | None:
    """Example 01's ``run.py`` as this installation ships it; None when it does not."""
    try:
        script = Path(str(importlib.resources.files("neurostack.examples") / EXAMPLE))
    except ModuleNotFoundError:  # an editable install made before examples/ was mapped in
        return None
    return script if script.is_file() else None


def load_example(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("neurostack_example_01", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def demo(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="chain.toml giving endpoints and dev keys")
    ] = Path("chain.toml"),
    rpc: Annotated[
        str | None, typer.Option(help="rollup JSON-RPC URL (default: from chain.toml)")
    ] = None,
    hub: Annotated[str | None, typer.Option(help="hub URL (default: from chain.toml)")] = None,
    key: Annotated[
        str | None,
        typer.Option(envvar="NEUROSTACK_PRIVATE_KEY", help="sender key (default: dev account 0)"),
    ] = None,
    features: Annotated[
        str, typer.Option(help="the 4 input numbers, comma-separated")
    ] = DEFAULT_FEATURES,
    timeout: Annotated[float, typer.Option(help="seconds to wait for inclusion")] = 60.0,
) -> None:
    """Call a model from a contract on the running devnet and verify the proof locally."""
    script = example_script()
    if script is None:
        err.print(
            f"[bold red]error:[/] the demo runs example 01 ({EXAMPLE}), which this "
            "installation of Neuro Stack does not include: reinstall it (`pip install -e .` in "
            "a clone, or `pip install 'neurostack[all]'`)"
        )
        raise typer.Exit(1)
    argv = ["--config", str(config), "--features", features, "--timeout", str(timeout)]
    for option, value in (("--rpc", rpc), ("--hub", hub), ("--key", key)):
        if value:
            argv += [option, value]
    sys.stdout.flush()
    raise typer.Exit(load_example(script).main(argv))


def register(app: typer.Typer) -> None:
    app.command()(demo)
