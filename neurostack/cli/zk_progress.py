"""The live view of a model's ZK setup for ``neurostack model upload --zk``: one row per
step (settings, calibrate, compile, SRS, keys, test proof) with a spinner while it runs
and the seconds the hub measured once it is done, then what the circuit is."""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from hub_client import HubClient, ModelInfo, ZkCircuit
from neurostack.zk import SETUP_STEPS


class SetupView:
    """Renders the steps of a ZK record; ``update`` is the ``wait_for_zk`` callback."""

    def __init__(self) -> None:
        self.zk: ZkCircuit | None = None
        self._first_seen: dict[str, float] = {}

    def update(self, info: ModelInfo) -> None:
        self.zk = info.zk

    def __rich__(self) -> Group:
        table = Table.grid(padding=(0, 2))
        done = {s.name: s.seconds for s in (self.zk.steps if self.zk else ())}
        failed = self.zk is not None and self.zk.status == "failed"
        for name in SETUP_STEPS:
            if name in done and done[name] is not None:
                table.add_row(Text("✓", style="green"), name, f"{done[name]:.2f} s")
            elif name in done:
                started = self._first_seen.setdefault(name, time.monotonic())
                mark = Text("✗", style="red") if failed else Spinner("dots")
                table.add_row(mark, name, f"{time.monotonic() - started:.1f} s …")
            else:
                table.add_row(Text("·", style="dim"), Text(name, style="dim"), "")
        title = Text("ZK setup on the hub", style="bold")
        return Group(title, table)


def wait_with_progress(client: HubClient, cid: str, console: Console, timeout: float) -> ModelInfo:
    """Poll the hub until the setup ends, showing each step live on ``console``."""
    view = SetupView()
    with Live(view, console=console, refresh_per_second=8, transient=False):
        return client.wait_for_zk(cid, timeout=timeout, poll=0.25, on_update=view.update)


def describe(zk: ZkCircuit) -> list[str]:
    """The lines ``model show`` prints for a ZK circuit."""
    lines = [f"zk           {zk.status}" + (f" ({zk.reason})" if zk.reason else "")]
    if zk.status == "ready":
        total = sum(s.seconds or 0.0 for s in zk.steps)
        srs = (
            "development SRS (gen_srs; never for production)"
            if zk.development_srs
            else "ceremony SRS"
        )
        lines += [
            f"zk backend   {zk.backend} {zk.backend_version}, 2^{zk.logrows} rows, {srs}",
            f"zk scales    inputs {list(zk.input_scales)}, outputs {list(zk.output_scales)}",
            f"zk proof     {zk.proof_bytes} bytes",
            f"settings     0x{(zk.settings_hash or b'').hex()}",
            f"vk hash      0x{(zk.verifying_key_hash or b'').hex()}",
            "zk setup     "
            + ", ".join(f"{s.name} {s.seconds:.2f} s" for s in zk.steps if s.seconds is not None)
            + f" (total {total:.2f} s)",
        ]
    return lines
