"""The banner ``neurostack up`` prints once the devnet is ready."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from neurostack.hub.broker import redacted

from .devnet import Devnet, redis_dir


def print_banner(console: Console, devnet: Devnet, ready_after: float | None = None) -> None:
    """Endpoints, chain identity and the funded dev accounts with their keys.

    Lines never wrap (``soft_wrap``) so URLs and keys stay copy-pasteable in
    narrow terminals and in logs.
    """
    config = devnet.config
    token = config.token
    rows = [
        ("RPC (HTTP)", devnet.rpc_http),
        ("RPC (WS)", devnet.rpc_ws),
        ("Chain id", f"{config.chain.chain_id}"),
        ("Token", f"{token.name} ({token.symbol}), {token.decimals} decimals"),
        ("Block time", "on demand (evm_mine)" if devnet.block_time == 0
         else f"{devnet.block_time:g} s"),
    ]  # fmt: skip
    if devnet.hub_url and devnet.hub_external:
        rows.append(("Hub", f"{devnet.hub_url}  (joined: its sprinter workers serve this chain)"))
    elif devnet.hub_url:
        rows.append(("Hub", f"{devnet.hub_url}  ({devnet.workers} sprinter workers)"))
    if devnet.redis_url:
        # The password never goes to a terminal or a log: it stays in its 0600 file.
        if devnet.redis_embedded:
            folder = redis_dir(config)
            if folder.is_relative_to(config.root):
                folder = folder.relative_to(config.root)
            kind = f"embedded; password in {folder}/password, URL for other chains in {folder}/url"
        else:
            kind = "external"
        rows.append(("Redis", f"{redacted(devnet.redis_url)}  ({kind})"))
    if devnet.explorer_url:
        rows.append(("Explorer", devnet.explorer_url))
    rows += [("Data dir", str(devnet.data_dir)), ("Logs", str(devnet.log_dir))]

    out = lambda text: console.print(text, soft_wrap=True, highlight=False)
    took = f" (in {ready_after:.1f} s)" if ready_after is not None else ""
    out(Text(f"\nNeuro Stack devnet '{config.chain.name}' is ready{took}", style="bold green"))
    for label, value in rows:
        out(Text.assemble((f"  {label:<11}", "bold"), value))

    accounts = config.dev_accounts()
    if accounts:
        balance = config.dev.balance / 10**token.decimals
        out(
            Text(
                "\n  DEV ONLY — publicly known keys: anyone can take funds sent to these accounts",
                style="bold black on yellow",
            )
        )
        out(
            Text(
                f"  Funded accounts ({balance:g} {token.symbol} each), from the mnemonic "
                f'"{config.dev.mnemonic}":'
            )
        )
        for i, account in enumerate(accounts):
            out(f"  ({i}) {account.address}  key {account.private_key}")
    if devnet.hub_url and (devnet.workers or devnet.hub_external):
        out(
            "\nTry it: run `neurostack demo` in this folder in another terminal "
            "(a contract calls a model; its proof is verified locally)."
        )
    out("\nPress Ctrl-C to stop.")
