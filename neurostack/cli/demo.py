"""``neurostack demo``: a contract calls a model on a running devnet, and the proof is checked.

Against a running ``neurostack up`` (endpoints from ``chain.toml`` or ``--rpc``/``--hub``):
upload the sample MLP (``neurostack/hub/samples``) to the hub with ``hub_client``, deploy
``contracts/examples/ModelConsumer`` from its committed artifact with a dev account, send a
transaction whose contract calls the model (gas estimated by the node, which runs the
model for real), follow PIPE's status until the transaction is included, then print the
output and the block next to a local onnxruntime run, and verify the transaction with the
light client ``hub_client.RollupClient.verify_inference`` (what ``neurostack
verify-inference`` runs): nothing the node says is used before it is proven.

Only public interfaces are used (JSON-RPC, the hub's HTTP API through the SDK), so the
demo doubles as a script a dApp developer can read. Every failure is one ``error:`` line.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from rich.console import Console
from rich.markup import escape

from hub_client import HubClient, HubError, RollupClient, VerifiedInference
from neurostack.hub.samples import sample_model_path
from neurostack.solidity import load_artifact

from .verify import print_verification

DEFAULT_FEATURES = "0.5,-1.25,2.0,0.125"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class DemoError(Exception):
    """A step of the demo failed; the message says what to do."""


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
    rpc_url, hub_url, account = endpoints(config, rpc, hub, key)
    try:
        values, decimals = parse_features(features)
        run_demo(rpc_url, hub_url, account, values, decimals, timeout=timeout)
    except (DemoError, HubError, TimeoutError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def endpoints(
    config: Path, rpc: str | None, hub: str | None, key: str | None
) -> tuple[str, str, LocalAccount]:
    """RPC URL, hub URL and sender: options first, then chain.toml, then the defaults."""
    from sequencer.config import load_chain_config

    Account.enable_unaudited_hdwallet_features()
    rpc_url, hub_url, mnemonic = "http://127.0.0.1:8545", "http://127.0.0.1:8600", ANVIL_MNEMONIC
    if config.is_file():
        chain = load_chain_config(config)
        from neurostack.devnet.services import hub_url as hub_of
        from neurostack.devnet.services import rpc_url as rpc_of

        rpc_url, hub_url, mnemonic = rpc_of(chain), hub_of(chain), chain.dev.mnemonic
    account = (
        Account.from_key(key)
        if key
        else Account.from_mnemonic(mnemonic, account_path="m/44'/60'/0'/0/0")
    )
    return rpc or rpc_url, hub or hub_url, account


def parse_features(text: str) -> tuple[list[int], int]:
    """``"0.5,-1.25"`` -> integers with one common number of decimals: ``([500, -1250], 3)``."""
    try:
        numbers = [Decimal(part.strip()) for part in text.split(",") if part.strip()]
    except ArithmeticError:
        raise ValueError(f"--features {text!r}: give numbers separated by commas") from None
    if len(numbers) != 4:
        raise ValueError(f"--features: the sample model takes 4 numbers, got {len(numbers)}")
    decimals = max(0, *(-int(n.as_tuple().exponent) for n in numbers))
    return [int(n.scaleb(decimals)) for n in numbers], decimals


def step(label: str, text: str) -> None:
    out.print(f"[bold]{label:<12}[/]{text}")


def run_demo(
    rpc_url: str, hub_url: str, account: LocalAccount, features: list[int], decimals: int,
    *, timeout: float = 60.0,
) -> VerifiedInference:  # fmt: skip
    """The demo's steps; returns the verified inference (the tests check it too)."""
    with RollupClient(rpc_url) as rollup, HubClient(hub_url) as hub:
        info = rollup.chain_info()
        out.print(
            f"[bold green]Neuro Stack demo[/] on chain {info.chain_id} '{escape(info.name)}' "
            f"({info.token_symbol}) at {rpc_url}, hub {hub_url}, sender {account.address}\n"
        )
        model = hub.upload_model(
            sample_model_path("mlp_regressor"), private_key=account.key, name="mlp_regressor"
        )
        step("model", f"uploaded mlp_regressor.onnx -> {model.cid} (x [N, 4] -> y [N, 1])")

        artifact = load_artifact("ModelConsumer")
        deploy_data = artifact.bytecode + encode(["string", "uint8"], ["x", 0])
        deployed = transact(rollup, account, None, deploy_data, timeout)
        consumer = to_checksum_address(deployed["contractAddress"])
        step(
            "contract",
            f"ModelConsumer deployed at {consumer} (block {_int(deployed['blockNumber'])})",
        )

        call = function_selector("predict(string,int128[],int128)") + encode(
            ["string", "int128[]", "int128"], [model.cid, features, decimals]
        )
        shown = ", ".join(str(Decimal(v).scaleb(-decimals)) for v in features)
        tx_hash = send(rollup, account, consumer, call)
        step("transaction", f"{tx_hash}  predict(x=[{shown}])")
        follow_status(rollup, tx_hash, timeout)
        receipt = rollup.request("eth_getTransactionReceipt", tx_hash)
        if receipt is None or receipt["status"] != "0x1":
            raise DemoError(f"transaction {tx_hash} failed: {receipt}")

        block = _int(receipt["blockNumber"])
        # The light client: header, inclusion, receipt, Merkle branch and the sprinter's
        # admission, each proven from the node's answers (nothing taken on its word).
        verified = rollup.verify_inference(tx_hash)
        checked = verified.inferences[0]
        y = float(checked.arrays()["y"].reshape(-1)[0])
        stored = decode(["int256"], rollup_call(rollup, consumer, "lastValue()"))[0]
        stored_decimals = decode(["int128"], rollup_call(rollup, consumer, "lastDecimals()"))[0]
        local = local_onnxruntime(features, decimals)
        same = np.float32(y) == np.float32(local)
        fee = sum(_int(c["modelGas"]) for c in receipt.get("inferences", []))
        fee *= _int(receipt["effectiveGasPrice"])
        step("block", f"{block}  {receipt['blockHash']}  gas used {_int(receipt['gasUsed'])}")
        step("output", f"y = {y!r}  (the contract stored {stored} x 10^-{stored_decimals})")
        step("onnxruntime", f"y = {float(local)!r} run here on this machine: "
             + ("[green]equal[/]" if same else "[red]DIFFERENT[/]"))  # fmt: skip
        step("fee", f"{fee} wei to sprinter {to_checksum_address(checked.sprinter)} and the model")

        out.print("\n[bold]light client[/] (hub_client.RollupClient.verify_inference)")
        print_verification(verified)
        out.print(
            "\n[bold green]verified locally[/] with hub_client: header fields to the block hash, "
            "transaction and receipt under their roots, receipt signature and hashes, Merkle "
            "branch to the header's extraData; the signer is an active sprinter in the chain's "
            "registry, proven with eth_getProof against the parent block's state root"
        )
        if not same:
            raise DemoError("the chain's output differs from a local onnxruntime run")
        return checked


# --- JSON-RPC helpers (the demo sends raw transactions: no web3 needed) -----------------


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def function_selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def rollup_call(rollup: RollupClient, to: str, signature: str, args: bytes = b"") -> bytes:
    data = "0x" + (function_selector(signature) + args).hex()
    return bytes.fromhex(rollup.request("eth_call", {"to": to, "data": data}, "latest")[2:])


def send(rollup: RollupClient, account: LocalAccount, to: str | None, data: bytes) -> str:
    """Estimate gas (a model call runs for real during the estimate), sign and send."""
    nonce = _int(rollup.request("eth_getTransactionCount", account.address, "pending"))
    request: dict[str, Any] = {"from": account.address, "data": "0x" + data.hex()}
    if to is not None:
        request["to"] = to
    gas = _int(rollup.request("eth_estimateGas", request))
    base_fee = _int(rollup.request("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
    tip = _int(rollup.request("eth_maxPriorityFeePerGas"))
    tx: dict[str, Any] = {
        "chainId": rollup.chain_id(), "nonce": nonce, "gas": gas * 6 // 5, "data": data,
        "maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip, "type": 2, "value": 0,
    }  # fmt: skip
    if to is not None:
        tx["to"] = to
    raw = bytes(account.sign_transaction(tx).raw_transaction)
    return str(rollup.request("eth_sendRawTransaction", "0x" + raw.hex()))


def transact(
    rollup: RollupClient, account: LocalAccount, to: str | None, data: bytes, timeout: float
) -> dict[str, Any]:
    tx_hash = send(rollup, account, to, data)
    end = time.monotonic() + timeout
    receipt: dict[str, Any] | None
    while (receipt := rollup.request("eth_getTransactionReceipt", tx_hash)) is None:
        if time.monotonic() > end:
            raise TimeoutError(f"transaction {tx_hash} not included after {timeout:g} s")
        time.sleep(0.1)
    if receipt["status"] != "0x1":
        raise DemoError(f"transaction {tx_hash} reverted")
    return receipt


def follow_status(rollup: RollupClient, tx_hash: str, timeout: float) -> None:
    """Print PIPE's status changes (parked -> dispatched -> ready -> included)."""
    seen: list[str] = []
    end = time.monotonic() + timeout
    while True:
        status = rollup.inference_status(tx_hash)
        if not seen or seen[-1] != status.status:
            seen.append(status.status)
            step("", f"status: {' -> '.join(seen)}")
        if status.status == "included":
            return
        if status.status == "dropped":
            raise DemoError(f"the sequencer dropped the transaction: {status.reason}")
        if time.monotonic() > end:
            raise TimeoutError(f"transaction {tx_hash} still {status.status} after {timeout:g} s")
        time.sleep(0.05)


def local_onnxruntime(features: list[int], decimals: int) -> np.float32:
    """The sample model run here with onnxruntime on the same input (float32, as on chain)."""
    import onnxruntime as ort

    session = ort.InferenceSession(
        str(sample_model_path("mlp_regressor")), providers=["CPUExecutionProvider"]
    )
    x = np.array([[float(Decimal(v).scaleb(-decimals)) for v in features]], dtype=np.float32)
    return np.float32(session.run(["y"], {"x": x})[0].reshape(-1)[0])


def register(app: typer.Typer) -> None:
    app.command()(demo)
