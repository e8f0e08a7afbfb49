"""`neurostack up` serves the explorer (banner line `Explorer http://…`, `neurostack
explorer` as a supervised process) and plans it only when asked to."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from neurostack.devnet.devnet import DevnetOptions, plan
from neurostack.hub.broker import free_port
from sequencer.config import load_chain_config
from tests.cli.test_up import NEUROSTACK, Up, rpc


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("up-explorer")
    subprocess.run(
        [str(NEUROSTACK), "new", "explorerchain", "--no-input", "--output-dir", str(folder),
         "--rpc-port", str(free_port()), "--hub-port", str(free_port()), "--block-time", "0"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "explorerchain"


def test_up_plans_the_explorer_after_the_node_unless_told_not_to(project: Path) -> None:
    config = load_chain_config(project / "chain.toml")
    stages, devnet = plan(config, DevnetOptions(project / "chain.toml", explorer_port=18700))
    (explorer,) = stages[-1]
    argv = list(explorer.argv)
    assert argv[argv.index("--rpc") + 1] == devnet.rpc_http
    assert argv[argv.index("--project") + 1] == str(config.root)
    assert argv[argv.index("--data-dir") + 1] == str(config.data_dir / "explorer")  # --reset
    assert devnet.explorer_url == "http://127.0.0.1:18700"

    stages, devnet = plan(config, DevnetOptions(project / "chain.toml", explorer=False))
    assert all(spec.name != "explorer" for stage in stages for spec in stage)
    assert devnet.explorer_url is None


@pytest.mark.slow
def test_up_serves_the_explorer_and_prints_its_url(project: Path) -> None:
    up = Up(project, "--no-hub", "--explorer-port", "0")
    try:
        up.wait_for("Press Ctrl-C to stop.")
        found = re.search(r"Explorer\s+(http://\S+)", up.output)
        assert found, up.output
        url = found.group(1)
        config = load_chain_config(project / "chain.toml")
        rpc_url = f"http://127.0.0.1:{config.rpc.port}"
        rpc(rpc_url, "evm_mine")
        head = int(rpc(rpc_url, "eth_blockNumber"), 16)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if httpx.get(url + "/health", timeout=5).json()["indexedHead"] == head:
                break
            time.sleep(0.1)
        home = httpx.get(url + "/", timeout=10)
        assert home.status_code == 200 and "explorerchain" in home.text
        assert f'data-block="{head}"' in home.text
        assert up.stop(signal.SIGTERM) == 0
    finally:
        up.close()
