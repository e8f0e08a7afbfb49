"""What every example's ``run.py`` shares: where the devnet is, its dev accounts, models.

An example runs against a devnet started with ``neurostack up``. It finds the endpoints the
way ``neurostack demo`` does: ``--rpc``/``--hub`` if given, else the ``chain.toml`` of the
chain project (``--config``, default ``./chain.toml``), else ``127.0.0.1:8545``/``:8600``.
The funded dev accounts come from the project's ``[dev]`` mnemonic (anvil's public test
mnemonic by default). Examples that price a model in the chain's registry
(``registerModel`` on the system contract at ``0x4E53…0001``) act as the chain owner: the
sequencer key, ``[sequencer] key_file`` of the project, or ``--owner-key``.

Everything on chain goes through ``hub_client``: ``RollupClient`` (JSON-RPC, transactions,
contracts) and ``HubClient`` (model uploads). Running a model locally with onnxruntime, the
way a sprinter does, shows what the chain must have stored (:func:`local_output`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from hub_client import Contract, HubClient, HubError, RollupClient, TransactionReceipt
from neurostack.protocol import (
    ModelInput,
    ModelOutput,
    Number,
    NumberTensor,
    cid_digest,
    model_input_to_feeds,
    outputs_to_model_output,
)

DEFAULT_RPC = "http://127.0.0.1:8545"
DEFAULT_HUB = "http://127.0.0.1:8600"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
REGISTRY = "0x4E53000000000000000000000000000000000001"  # the chain's model/sprinter registry
MODE_VANILLA, MODE_TEE = 0, 2


def parser(description: str | None) -> argparse.ArgumentParser:
    """The options every example takes."""
    p = argparse.ArgumentParser(description=(description or "").split("\n\n")[0])
    p.add_argument(
        "--config",
        type=Path,
        default=Path("chain.toml"),
        help="the chain project's chain.toml (endpoints, dev mnemonic, owner key)",
    )
    p.add_argument("--rpc", help=f"rollup JSON-RPC URL (default: chain.toml, else {DEFAULT_RPC})")
    p.add_argument("--hub", help=f"hub URL (default: chain.toml, else {DEFAULT_HUB})")
    p.add_argument(
        "--key",
        default=os.environ.get("NEUROSTACK_PRIVATE_KEY"),
        help="the main account's key (default: dev account 0)",
    )
    p.add_argument(
        "--owner-key",
        default=os.environ.get("NEUROSTACK_OWNER_KEY"),
        help="the chain owner's key (default: chain.toml's sequencer key file)",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a block")
    return p  # fmt: skip


@dataclass
class Devnet:
    """A running devnet as an example sees it."""

    rollup: RollupClient
    hub: HubClient
    accounts: list[LocalAccount]  # accounts[0] is the main one (--key)
    owner_key: str | None  # the chain owner's private key, if known
    timeout: float = 60.0

    def upload(self, path: Path, name: str) -> str:
        """Upload an ONNX model (signed by account 0) and return its content id; the same
        bytes give the same id, so running an example again reuses the model."""
        info = self.hub.upload_model(path, private_key=self.accounts[0].key, name=name,
                                     progress=False)  # fmt: skip
        return info.cid

    def registry(self) -> Contract:
        """The registry system contract with its ABI (``INeuroRegistry.sol``)."""
        from neurostack.solidity import load_artifact

        return self.rollup.contract(REGISTRY, load_artifact("INeuroRegistry"))

    def register_model(
        self, cid: str, *, owner: str, inference_gas: int, royalty_bps: int
    ) -> TransactionReceipt:
        """Price ``cid`` in the chain's registry: each call costs ``inference_gas`` gas,
        ``royalty_bps`` of that fee goes to ``owner``. Only the chain owner may do this."""
        if self.owner_key is None:
            raise ValueError(
                "registering a model needs the chain owner's key: run the example in the chain "
                "project's folder (its keys/sequencer.key), or pass --config or --owner-key"
            )
        return self.registry().transact(
            self.owner_key, "registerModel", cid, cid_digest(cid), owner, inference_gas,
            royalty_bps,
        )  # fmt: skip


def _chain_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text()) if path.is_file() else {}


def _url(section: dict[str, Any], default: str) -> str:
    if not section:
        return default
    host = section.get("host", "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{section.get('port', default.rsplit(':', 1)[1])}"


def dev_accounts(mnemonic: str = ANVIL_MNEMONIC, count: int = 10) -> list[LocalAccount]:
    """The funded dev accounts m/44'/60'/0'/0/i, as anvil and ``neurostack up`` derive them."""
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)
    ]


@contextmanager
def connect(args: argparse.Namespace) -> Iterator[Devnet]:
    """Clients and accounts for the devnet ``args`` point at."""
    config = _chain_toml(args.config)
    root = args.config.parent
    dev = config.get("dev", {})
    accounts = dev_accounts(dev.get("mnemonic", ANVIL_MNEMONIC), max(6, dev.get("accounts", 10)))
    if args.key:
        accounts[0] = Account.from_key(args.key)
    owner_key = args.owner_key
    key_file = config.get("sequencer", {}).get("key_file")
    if owner_key is None and key_file and (root / key_file).is_file():
        owner_key = (root / key_file).read_text().strip()
    rpc = args.rpc or _url(config.get("rpc", {}), DEFAULT_RPC)
    hub = args.hub or _url(config.get("hub", {}), DEFAULT_HUB)
    with ExitStack() as stack:
        rollup = stack.enter_context(RollupClient(rpc, timeout=args.timeout))
        hub_client = stack.enter_context(HubClient(hub))
        yield Devnet(rollup, hub_client, accounts, owner_key, timeout=args.timeout)


def main(argv: Sequence[str] | None, description: str | None,
         run: Callable[[Devnet, argparse.Namespace], Any],
         add_options: Callable[[argparse.ArgumentParser], None] | None = None) -> int:  # fmt: skip
    """Parse the options, run the example; one ``error:`` line and exit code 1 on failure."""
    p = parser(description)
    if add_options is not None:
        add_options(p)
    args = p.parse_args(argv)
    try:
        with connect(args) as devnet:
            run(devnet, args)
    except (HubError, TimeoutError, ValueError) as exc:  # every SDK error is a HubError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


# --- models, as the chain sees them ---------------------------------------------------------


def row(name: str, values: Sequence[int], decimals: int) -> ModelInput:
    """What ``NeuroTensors.rowTensor(name, values, decimals)`` sends: one [1, n] row of
    ``values[i] · 10^-decimals``."""
    numbers = tuple(Number(int(v), decimals) for v in values)
    return ModelInput(numbers=(NumberTensor(name, numbers, (1, len(values))),))


def local_output(model: Path, model_input: ModelInput) -> ModelOutput:
    """Run ``model`` on ``model_input`` with onnxruntime as a sprinter does (the protocol's
    conversions both ways): the output the chain must have used."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    specs = {i.name: (i.type, tuple(i.shape)) for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    arrays = session.run(names, model_input_to_feeds(model_input, specs))
    return outputs_to_model_output(dict(zip(names, arrays, strict=True)))


def number(output: ModelOutput, tensor: str, index: int = 0) -> Number:
    """One value of a number tensor of a model output."""
    for t in output.numbers:
        if t.name == tensor:
            return t.values[index]
    raise KeyError(f"the model output has no number tensor {tensor!r}")


def shown(n: Number | int, decimals: int | None = None) -> str:
    """``Number(1234, 3)`` (or ``1234, 3``) as ``1.234``."""
    value, places = (n.value, n.decimals) if isinstance(n, Number) else (n, decimals or 0)
    return str(Decimal(value).scaleb(-places).normalize())
