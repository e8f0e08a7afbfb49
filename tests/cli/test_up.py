"""`neurostack up` as a user runs it: a real subprocess on free ports, stopped by signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from eth_account import Account

from neurostack.hub.broker import EmbeddedRedis, free_port
from sequencer.config import load_chain_config
from tests.devnet.procs import descendants, wait_gone

NEUROSTACK = Path(sys.executable).with_name("neurostack")
READY_TIMEOUT = 90.0  # two shared cores: the whole stack usually needs 5-10 s

pytestmark = pytest.mark.slow


class Up:
    """A running `neurostack up` with its output collected line by line."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None) -> None:
        inherited = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        if not {"--explorer-port", "--no-explorer"} & set(args):
            # any free port, not the default 8700: devnets of other tests (parallel workers)
            # or of the developer would race for it
            args = (*args, "--explorer-port", "0")
        self.process = subprocess.Popen(
            [str(NEUROSTACK), "up", *args],
            cwd=project,
            env={**inherited, "COLUMNS": "200", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.children: set[int] = set()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                self._reader.join(5)
                if text in self.output:
                    return
                pytest.fail(f"`neurostack up` exited {self.process.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output}")
            time.sleep(0.05)
        self.children |= descendants(self.process.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        self.children |= descendants(self.process.pid)
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        """Finalizer: whatever happened in the test, leave no process behind."""
        if self.process.poll() is None:
            self.children |= descendants(self.process.pid)
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in wait_gone(self.children, 5):
            os.kill(pid, signal.SIGKILL)


def logs_tail(project: Path, lines: int = 15) -> str:
    """The end of every service log: what a failure message needs to be diagnosed."""
    out = []
    for log in sorted((project / "data" / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"\n--- {log.name} ---\n" + "\n".join(tail))
    return "".join(out)


def rpc(url: str, method: str, *params: Any) -> Any:
    reply = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10
    ).json()
    assert "error" not in reply, reply
    return reply["result"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("up")
    subprocess.run(
        [
            str(NEUROSTACK), "new", "upchain", "--no-input", "--output-dir", str(folder),
            "--rpc-port", str(free_port()), "--hub-port", str(free_port()),
            "--block-time", "0.5", "--token-name", "Up Gas", "--token-symbol", "UPG",
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "upchain"


@pytest.fixture(scope="module")
def rpc_url(project: Path) -> str:
    config = load_chain_config(project / "chain.toml")
    return f"http://127.0.0.1:{config.rpc.port}"


@pytest.fixture
def launch(project: Path) -> Iterator[Any]:
    started: list[Up] = []

    def _launch(*args: str, env: dict[str, str] | None = None) -> Up:
        up = Up(project, *args, env=env)
        started.append(up)
        return up

    yield _launch
    for up in started:
        up.close()


def test_up_runs_the_whole_stack_and_the_project_tests_pass(
    project: Path, rpc_url: str, launch: Any
) -> None:
    config = load_chain_config(project / "chain.toml")
    up = launch("--workers", "1")
    up.wait_for("Press Ctrl-C to stop.")

    banner = up.output
    assert rpc_url in banner and f"ws://127.0.0.1:{config.rpc.port}" in banner
    assert f"http://127.0.0.1:{config.hub.port}" in banner
    assert str(config.chain.chain_id) in banner and "Up Gas (UPG)" in banner
    assert "DEV ONLY" in banner
    first = config.dev_accounts()[0]
    assert f"{first.address}  key {first.private_key}" in banner
    assert int(rpc(rpc_url, "eth_chainId"), 16) == config.chain.chain_id
    assert httpx.get(f"http://127.0.0.1:{config.hub.port}/ready", timeout=10).status_code == 200
    names = {Path(p).name for p in (project / "data" / "logs").iterdir()}
    assert names == {"redis.log", "hub.log", "sprinter-0.log", "node.log", "explorer.log"}
    # Redis wants the generated password, kept 0600 and never printed.
    secret = project / "hub" / "redis" / "password"
    password = secret.read_text().strip()
    assert secret.stat().st_mode & 0o777 == 0o600 and password not in banner
    assert "redis://:***@127.0.0.1:" in banner and "password in hub/redis/password" in banner
    redis_url = (project / "hub" / "redis" / "url").read_text().strip()
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).ping()
    with redis.Redis.from_url(redis_url) as client:
        assert client.get(f"neurostack:chain:{config.chain.chain_id}")  # the node got in

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr + logs_tail(project)
    assert "6 passed" in tests.stdout  # chain, token, transfer, contract, model call

    assert up.stop(signal.SIGTERM) == 0
    assert "Devnet stopped." in up.output
    assert up.children and wait_gone(up.children, 10) == set()


def test_up_with_an_external_password_protected_redis(
    project: Path, launch: Any, tmp_path: Path
) -> None:
    config = load_chain_config(project / "chain.toml")
    with EmbeddedRedis(tmp_path / "external") as external:
        assert external.auth is not None
        up = launch("--workers", "1", env={"REDIS_URL": external.url})
        up.wait_for("Press Ctrl-C to stop.")
        assert external.auth.password not in up.output
        assert f"redis://:***@127.0.0.1:{external.port}/0  (external)" in up.output
        ready = httpx.get(f"http://127.0.0.1:{config.hub.port}/ready", timeout=10).json()
        assert ready["workers"], ready  # hub and worker authenticated with the URL's password
        with redis.Redis.from_url(external.url) as client:
            assert client.get(f"neurostack:chain:{config.chain.chain_id}")  # and the node
        assert up.stop() == 0


def test_up_again_resumes_the_chain_and_reset_starts_over(
    project: Path, rpc_url: str, launch: Any
) -> None:
    first = launch("--no-hub")
    first.wait_for("Press Ctrl-C to stop.")
    rpc(rpc_url, "evm_mine")  # a head of our own to compare
    head = rpc(rpc_url, "eth_getBlockByNumber", "latest", False)
    genesis = rpc(rpc_url, "eth_getBlockByNumber", "0x0", False)
    assert int(head["number"], 16) >= 1
    # Acknowledged right before Ctrl-C: it must survive the shutdown.
    sender = load_chain_config(project / "chain.toml").dev_accounts()[5]
    transfer = Account.sign_transaction(
        {
            "chainId": int(rpc(rpc_url, "eth_chainId"), 16),
            "nonce": int(rpc(rpc_url, "eth_getTransactionCount", sender.address, "pending"), 16),
            "to": "0x000000000000000000000000000000000000dEaD",
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
        },
        sender.private_key,
    )
    acknowledged = rpc(rpc_url, "eth_sendRawTransaction", "0x" + transfer.raw_transaction.hex())
    assert first.stop(signal.SIGINT) == 0  # Ctrl-C
    assert wait_gone(first.children, 10) == set()

    second = launch("--no-hub")
    second.wait_for("Press Ctrl-C to stop.")
    same = rpc(rpc_url, "eth_getBlockByNumber", head["number"], False)
    assert same["hash"] == head["hash"] and same["stateRoot"] == head["stateRoot"]
    assert int(rpc(rpc_url, "eth_blockNumber"), 16) >= int(head["number"], 16)
    assert rpc(rpc_url, "eth_getTransactionByHash", acknowledged) is not None
    assert second.stop() == 0
    (project / "hub" / "leftover").mkdir(parents=True, exist_ok=True)

    third = launch("--no-hub", "--reset")
    third.wait_for("Press Ctrl-C to stop.")
    assert "--reset" in third.output
    assert int(rpc(rpc_url, "eth_blockNumber"), 16) == 0
    assert rpc(rpc_url, "eth_getBlockByNumber", "0x0", False)["hash"] == genesis["hash"]
    assert rpc(rpc_url, "eth_getBlockByNumber", head["number"], False) is None
    assert not (project / "hub" / "leftover").exists()
    assert third.stop() == 0


def test_invalid_dying_service_is_reported_and_up_fails(rpc_url: str, launch: Any) -> None:
    up = launch("--no-hub")
    up.wait_for("Press Ctrl-C to stop.")
    (node_pid,) = [p for p in up.children if b"node" in Path(f"/proc/{p}/cmdline").read_bytes()]

    os.kill(node_pid, signal.SIGKILL)

    assert up.process.wait(30) == 1
    up._reader.join(5)
    assert "node exited with status -9" in up.output
    assert wait_gone(up.children, 10) == set()


def test_invalid_port_in_use_fails_fast_with_advice(
    project: Path, rpc_url: str, launch: Any
) -> None:
    port = int(rpc_url.rsplit(":", 1)[1])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        up = launch("--no-hub")
        assert up.process.wait(60) == 1
    up._reader.join(5)
    assert f"127.0.0.1:{port} is already in use" in up.output
    assert "[rpc].port" in up.output


def test_invalid_missing_config_says_how_to_create_one(tmp_path: Path, launch: Any) -> None:
    up = launch("--config", str(tmp_path / "nowhere" / "chain.toml"))
    assert up.process.wait(60) == 1
    up._reader.join(5)
    assert "no such file" in up.output and "neurostack new" in up.output
