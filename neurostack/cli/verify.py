"""``neurostack verify-inference``: the light client on the command line.

Checks one transaction's model calls from a rollup node's answers alone
(``hub_client.RollupClient.verify_inference``): header hash, optional trusted block hash,
transaction and receipt under their roots, each receipt and its Merkle branch to the
header's ``inferenceRoot``, each signer's admission from registry storage proven with
``eth_getProof`` against the parent block's state root, and each mode-ZK call's proof
against the model's registered circuit (``--zk-srs FILE``: the chain's SRS).

Exit codes: 0 everything verified (a short summary on stdout); 1 a check failed — the node
said something it cannot prove, or the block is not the trusted one (``error: <check> did
not verify: <reason>`` on stderr); 2 nothing could be checked (bad arguments, node
unreachable or answering errors, no such mined transaction with model calls).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from hub_client import InferenceVerification

# hub_client (the light client) is imported by the command: every `neurostack` process
# imports this module to build the command line (docs/quality.md, "Start-up").
DEFAULT_RPC_URL = "http://127.0.0.1:8545"  # hub_client.rollup.DEFAULT_RPC_URL (tested)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# keyed by hub_client.Outcome, a StrEnum of these values
MARKS = {"passed": "[green]✓[/]", "skipped": "[yellow]-[/]", "failed": "[red]✗[/]"}


def _short(value: bytes) -> str:
    text = "0x" + bytes(value).hex()
    return text if len(text) <= 20 else f"{text[:10]}…{text[-8:]}"


def print_verification(result: InferenceVerification, console: Console = out) -> None:
    """The summary ``verify-inference`` and ``neurostack demo`` print."""
    from eth_utils import to_checksum_address

    status = "succeeded" if result.succeeded else "[red]reverted[/]"
    console.print(
        f"[bold green]verified[/] transaction 0x{result.tx_hash.hex()} "
        f"(index {result.tx_index} of block {result.block_number}, "
        f"from {to_checksum_address(result.sender)}, chain {result.chain_id}, {status})"
    )
    anchor = (
        "anchored: it is the trusted block hash"
        if result.anchored
        else "[yellow]not anchored[/]: pass --trusted-block HASH from a source you trust"
    )
    console.print(f"  block        {result.block_number}  0x{result.block_hash.hex()}  ({anchor})")
    for number, inference in enumerate(result.inferences, 1):
        console.print(
            f"  inference {number}/{len(result.inferences)}  request id 0x{inference.request_id.hex()}"
        )
        console.print(f"    model      {inference.model_cid}  mode {inference.mode.name}")
        console.print(f"    sprinter   {to_checksum_address(inference.sprinter)}")
        console.print(f"    admitted   {escape(inference.admission)}")
        for name, array in inference.arrays().items():
            console.print(f"    output     {escape(name)} {list(array.shape)} = {array.tolist()}")
        console.print(
            f"    leaf       {inference.index} of {inference.leaf_count} under inferenceRoot "
            f"{_short(inference.inference_root)} (branch of {len(inference.branch)})"
        )
    console.print("  checks")
    for check in result.checks:
        console.print(f"    {MARKS[check.outcome]} {check.name.value:<12} {escape(check.detail)}")


def verify_inference(
    tx: Annotated[str, typer.Option("--tx", help="the transaction's hash (0x…)")],
    rpc: Annotated[
        str, typer.Option("--rpc", envvar="NEUROSTACK_RPC_URL", help="the rollup's JSON-RPC URL")
    ] = DEFAULT_RPC_URL,
    trusted_block: Annotated[
        str | None,
        typer.Option(
            "--trusted-block",
            help="the hash of the transaction's block, from a source you trust; without it "
            "the block hash is the node's word",
        ),
    ] = None,
    zk_srs: Annotated[
        Path | None,
        typer.Option(
            "--zk-srs",
            help="the chain's SRS file ([[inference.zk_srs]] in its chain.toml): needed to "
            "verify the proofs of mode-ZK calls",
        ),
    ] = None,
) -> None:
    """Verify a transaction's model outputs without trusting the RPC node."""
    from hub_client import HubError, RollupClient, VerificationFailed

    try:
        srs = zk_srs.read_bytes() if zk_srs is not None else None
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot read the SRS file {zk_srs}: {exc.strerror}")
        raise typer.Exit(2) from None
    try:
        with RollupClient(rpc) as rollup:
            result = rollup.verify_inference(tx, trusted_block_hash=trusted_block, zk_srs=srs)
    except VerificationFailed as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except (HubError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    print_verification(result)


def register(app: typer.Typer) -> None:
    app.command("verify-inference")(verify_inference)
