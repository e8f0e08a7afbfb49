"""``neurostack model upload|list|show`` and ``neurostack infer``: the SDK on the command line.

Deployment settings come from options or environment variables (``NEUROSTACK_HUB_URL``,
``NEUROSTACK_PRIVATE_KEY``) and are handed to :mod:`hub_client`; every SDK error becomes
one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as rich_escape

if TYPE_CHECKING:
    import hub_client
    from hub_client import InferenceResult, ModelInfo

# The SDK and the protocol package take about a second of CPU to import (numpy, eth_abi,
# eth_account): every `neurostack` process imports this module to build the command line,
# so they are imported by the commands that use them (docs/quality.md, "Start-up").
DEFAULT_HUB_URL = "http://127.0.0.1:8600"  # hub_client.DEFAULT_HUB_URL (a test compares)
# The client class the commands use; None: hub_client.HubClient (tests put a fake here).
HubClient: Any = None

KEY_ENV = "NEUROSTACK_PRIVATE_KEY"
HUB_ENV = "NEUROSTACK_HUB_URL"

model_app = typer.Typer(help="Upload, list and inspect models on a hub.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

HubUrl = Annotated[str, typer.Option("--hub", envvar=HUB_ENV, help="hub URL", show_default=True)]


class Mode(str, Enum):
    vanilla = "vanilla"
    zk = "zk"
    tee = "tee"


class CliError(Exception):
    """A problem with the command line itself (missing key, unreadable input file)."""


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """Print an error as one line with its fix and exit 1 (tracebacks help nobody here)."""
    from hub_client import HubError

    try:
        yield
    except (HubError, CliError) as exc:
        err.print("[red]error:[/]", rich_escape(str(exc)))
        raise typer.Exit(1) from None


def _hub_client(url: str) -> hub_client.HubClient:
    if HubClient is None:
        from hub_client import HubClient as client

        return client(url)
    return HubClient(url)  # type: ignore[no-any-return]


def _private_key(key_file: Path | None) -> str:
    if key_file is not None:
        try:
            return key_file.read_text().strip()
        except OSError as exc:
            raise CliError(f"cannot read the key file {key_file}: {exc.strerror}") from None
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise CliError(
            f"no private key: pass --key-file FILE (hex key) or set {KEY_ENV}; "
            "the key's address becomes the model's owner"
        )
    return key


def _shape(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"


def _print_model(info: ModelInfo) -> None:
    from . import zk_progress

    out.print(f"cid          {info.cid}")
    out.print(f"name         {info.name}")
    out.print(f"version      {info.version}")
    out.print(f"owner        {info.owner}")
    out.print(f"size         {info.size} bytes")
    out.print(f"model hash   0x{info.model_hash.hex()}")
    if info.description:
        out.print(f"description  {info.description}")
    if isinstance(info.created, int | float):
        created = datetime.fromtimestamp(info.created, UTC).isoformat(timespec="seconds")
        out.print(f"created      {created}")
    elif info.created is not None:
        out.print(f"created      {info.created}")
    for label, specs in (("inputs", info.inputs), ("outputs", info.outputs)):
        for spec in specs:
            out.print(f"{label:<12} {spec.name}: {spec.dtype} {_shape(spec.shape)}")
            label = ""
    if info.zk is not None:
        for line in zk_progress.describe(info.zk):
            out.print(line)


@model_app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="ONNX model file")],
    name: Annotated[str, typer.Option("--name", help="model name")],
    version: Annotated[str, typer.Option("--version", help="model version")] = "1",
    description: Annotated[str, typer.Option("--description", help="what the model does")] = "",
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help=f"owner's hex private key (or ${KEY_ENV})")
    ] = None,
    zk: Annotated[
        bool,
        typer.Option(
            "--zk",
            help="also make the model's ZK circuit on the hub (mode ZK: proofs that bind the "
            "weights); shows each setup step and its time",
        ),
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="with --zk: wait until the circuit is ready")
    ] = True,
    zk_timeout: Annotated[
        float, typer.Option("--zk-timeout", help="seconds to wait for the ZK setup")
    ] = 600.0,
    hub: HubUrl = DEFAULT_HUB_URL,
) -> None:
    """Upload an ONNX model signed by its owner; prints its content id (CID)."""
    from . import zk_progress

    with _one_line_errors():
        key = _private_key(key_file)
        with _hub_client(hub) as client:
            info = client.upload_model(
                file, private_key=key, name=name, version=version, description=description, zk=zk
            )
            if zk and wait and info.zk is not None and info.zk.status == "pending":
                info = zk_progress.wait_with_progress(client, info.cid, err, zk_timeout)
        _print_model(info)
        if zk and info.zk is not None and info.zk.status == "failed":
            raise CliError(f"the ZK setup failed: {info.zk.reason}")


@model_app.command("list")
def list_models(hub: HubUrl = DEFAULT_HUB_URL) -> None:
    """List the models stored on the hub."""
    with _one_line_errors(), _hub_client(hub) as client:
        models = client.list_models()
    if not models:
        out.print("no models on this hub; upload one with `neurostack model upload`")
        return
    # Plain columns, never truncated: a CID must stay whole to be copied.
    out.print(f"{'CID':<59}  {'NAME':<20}  {'VERSION':<8}  {'OWNER':<42}  SIZE")
    for m in models:
        out.print(f"{m.cid:<59}  {m.name:<20}  {m.version:<8}  {m.owner:<42}  {m.size}")


@model_app.command("show")
def show(
    cid: Annotated[str, typer.Argument(help="model content id")], hub: HubUrl = DEFAULT_HUB_URL
) -> None:
    """Show one model: owner, hash, input and output tensors."""
    with _one_line_errors(), _hub_client(hub) as client:
        _print_model(client.get_model(cid))


def _read_input(path: Path) -> Any:
    from neurostack.protocol.errors import ProtocolError
    from neurostack.protocol.tensors import model_input_from_json

    try:
        return model_input_from_json(json.loads(path.read_text()))
    except OSError as exc:
        raise CliError(f"cannot read the input file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None
    except ProtocolError as exc:
        raise CliError(
            f'{path} is not a model input: {exc}; write e.g. {{"x": [[1.0, 2.0, 3.0, 4.0]]}}'
        ) from None


def _result_json(result: InferenceResult) -> dict[str, Any]:
    from eth_utils import to_checksum_address

    from neurostack.protocol.receipts import receipt_to_json
    from neurostack.protocol.tensors import model_output_to_json

    return {
        "requestId": "0x" + result.request_id.hex(),
        "output": model_output_to_json(result.output),
        "receipt": receipt_to_json(result.receipt),
        "worker": result.worker,
        "verified": result.verified,
        "signer": to_checksum_address(result.signer) if result.signer else None,
    }


def infer(
    model: Annotated[str, typer.Option("--model", help="model content id")],
    input_file: Annotated[Path, typer.Option("--input", help='JSON input: {"name": [[...]]}')],
    mode: Annotated[Mode, typer.Option("--mode", help="inference mode")] = Mode.vanilla,
    hub: HubUrl = DEFAULT_HUB_URL,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Run a model on the hub and verify the sprinter's signed receipt locally (with
    --mode zk also its ZK proof, against the model's verifying key)."""
    from eth_utils import to_checksum_address

    from neurostack.protocol.modes import InferenceMode

    with _one_line_errors():
        model_input = _read_input(input_file)
        with _hub_client(hub) as client:
            result = client.infer(model, model_input, mode=mode.value)
    if as_json:
        typer.echo(json.dumps(_result_json(result), indent=2))
        return
    for name, array in result.arrays().items():
        out.print(f"{name} {list(array.shape)} = {array.tolist()}")
    signer = to_checksum_address(result.signer) if result.signer else "?"
    out.print(f"receipt verified: signed by {signer} (worker {result.worker or '?'})")
    if result.verified and result.receipt.mode == InferenceMode.ZK:
        out.print(f"ZK proof verified: {len(result.receipt.proof)} bytes, the circuit's output")
    out.print(f"request id 0x{result.request_id.hex()}")


@model_app.command("register-zk")
def register_zk(
    cid: Annotated[str, typer.Argument(help="model content id (uploaded with --zk)")],
    rpc: Annotated[
        str, typer.Option("--rpc", envvar="NEUROSTACK_RPC_URL", help="the rollup's JSON-RPC URL")
    ] = "http://127.0.0.1:8545",
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help=f"the chain owner's hex private key (keys/sequencer.key; or ${KEY_ENV})",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="seconds to wait for the transaction")
    ] = 60.0,
    hub: HubUrl = DEFAULT_HUB_URL,
) -> None:
    """Record a model's ZK circuit in the chain's registry (registerZkModel, chain owner
    only): downloads its circuit settings and verifying key from the hub, checked against
    the hashes the hub lists, and sends them; mode-ZK calls of the model verify from the
    next block on."""
    from eth_account import Account
    from eth_utils import to_checksum_address

    from hub_client import RollupClient
    from neurostack.protocol.registry import REGISTRY_ADDRESS
    from sequencer.chain.inference.system_contract import registry_calldata

    with _one_line_errors():
        key = _private_key(key_file)
        with _hub_client(hub) as client:
            info = client.get_model(cid)
            if info.zk is None or info.zk.status != "ready":
                state = "none" if info.zk is None else info.zk.status
                raise CliError(
                    f"model {cid} has no ready ZK circuit on the hub (zk: {state}); upload it "
                    "with `neurostack model upload FILE --zk` and wait until it is ready"
                )
            keys = client.zk_keys(cid)
        data = registry_calldata("registerZkModel", info.cid, keys.settings, keys.verifying_key)
        with RollupClient(rpc) as chain:
            try:
                sender = Account.from_key(key).address
            except ValueError:
                raise CliError("the private key is not a 32-byte hex key") from None
            if chain.balance(sender) == 0:
                raise CliError(
                    f"the key's account {sender} has no native token to pay registerZkModel's "
                    "gas (about 4.3 million for a small circuit); fund the chain owner's "
                    "address first (on a devnet: send from a dev account)"
                )
            try:
                receipt = chain.transact(
                    key, to_checksum_address(REGISTRY_ADDRESS), data, timeout=timeout
                )
            except TimeoutError as exc:
                raise CliError(f"{exc}; is the node producing blocks?") from None
    settings_hash = hashlib.sha256(keys.settings).hexdigest()
    vk_hash = hashlib.sha256(keys.verifying_key).hexdigest()
    out.print(f"registered   ZK circuit of {info.cid}")
    out.print(f"settings     0x{settings_hash} ({len(keys.settings)} B)")
    out.print(f"verifying key 0x{vk_hash} ({len(keys.verifying_key)} B)")
    out.print(
        f"srs          0x{hashlib.sha256(keys.srs).hexdigest()} (must be in the chain's [[inference.zk_srs]])"
    )
    out.print(
        f"transaction  {receipt.transaction_hash} in block {receipt.block_number} "
        f"(gas {receipt.gas_used:,})"
    )


def register(app: typer.Typer) -> None:
    """Add the model commands to the top-level app."""
    app.add_typer(model_app, name="model")
    app.command("infer")(infer)
