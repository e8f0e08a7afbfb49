"""The built wheel, installed with `pip install 'neurostack[all]'` into a clean virtual
environment, runs a chain project end to end: `neurostack new`, `pip install -e .[test]`
of the project, `neurostack compile`, `neurostack up`, the project's own tests and
`neurostack demo` (example 01).

Nothing comes from the repository checkout at run time: the template, the Solidity library,
the sample model and example 01 are the wheel's package data, and solc-js is installed by
npm into a fresh cache folder, as on a user's machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from neurostack.hub.broker import free_port
from tests.devnet.procs import descendants, wait_gone

from .wheels import make_venv, pip_env, pip_install, run, wheelhouse

pytestmark = pytest.mark.slow

GREETER = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

contract Greeter {
    function precompile() external pure returns (address) {
        return NEURO_INFERENCE_ADDRESS;
    }
}
"""


class Devnet:
    """`neurostack up` from the venv, its output collected, stopped with SIGTERM."""

    def __init__(self, bin_dir: Path, project: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [bin_dir / "neurostack", "up", "--workers", "1", "--explorer-port", "0"],
            cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.children: set[int] = set()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        self._reader = threading.Thread(target=lambda: self.lines.extend(stdout), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C to stop." not in self.output:
            assert self.process.poll() is None, f"`neurostack up` exited:\n{self.output}"
            assert time.monotonic() < deadline, f"not ready after {timeout} s:\n{self.output}"
            time.sleep(0.1)
        self.children = descendants(self.process.pid)

    def stop(self) -> int:
        self.children |= descendants(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)

    def close(self) -> None:
        if self.process.poll() is None:
            self.children |= descendants(self.process.pid)
            self.process.kill()
            self.process.wait()
        for pid in wait_gone(self.children, 5):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def devnets() -> Iterator[list[Devnet]]:
    started: list[Devnet] = []
    yield started
    for devnet in started:
        devnet.close()


def step(name: str, started: list[float]) -> None:
    """Print how long each stage took (shown with -s, and on failure)."""
    now = time.monotonic()
    print(f"{name}: {now - started[-1]:.1f} s")
    started.append(now)


@pytest.mark.timeout(1200)  # installing 130 wheels on two loaded cores takes minutes
def test_wheel_runs_new_compile_up_and_the_projects_tests(
    wheel: Path, tmp_path: Path, devnets: list[Devnet]
) -> None:
    clock = [time.monotonic()]
    bin_dir = make_venv(tmp_path / "venv")
    pip_install(bin_dir, f"{wheel}[all]", "pytest>=8", "web3>=7", "setuptools>=68")
    step("venv + pip install neurostack[all]", clock)
    # A fresh Neuro Stack cache: solc-js gets installed by npm as on a new machine.
    env = {**pip_env(), "NEUROSTACK_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("REDIS_URL", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"  # as after `source venv/bin/activate`

    # The template comes from the installed package, not from this checkout.
    where = "from neurostack.devnet import project; print(project.TEMPLATE_DIR)"
    template = run([bin_dir / "python", "-c", where], cwd=tmp_path, env=env).stdout.strip()
    assert template.startswith(str(tmp_path / "venv")), template

    run(
        [bin_dir / "neurostack", "new", "wheelchain", "--no-input",
         "--rpc-port", str(free_port()), "--hub-port", str(free_port()), "--block-time", "0.5"],
        cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    project = tmp_path / "wheelchain"
    step("neurostack new", clock)
    pinned = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert pinned == [f"neurostack[all]=={wheel.name.split('-')[1]}"]

    # The project's own dependencies resolve to the installed wheel: no index needed.
    run(
        [bin_dir / "python", "-m", "pip", "install", "-q", "--no-index",
         "--find-links", wheelhouse(), "-e", f"{project}[test]"],
        env=env, timeout=600,
    )  # fmt: skip
    step("pip install -e project[test]", clock)

    (project / "contracts" / "Greeter.sol").write_text(GREETER)
    compiled = run([bin_dir / "neurostack", "compile"], cwd=project, env=env, timeout=600)
    assert "Installing solc-js 0.8.37" in compiled.stderr  # into the fresh cache, by npm
    assert "Greeter.json, Predictor.json, Storage.json" in compiled.stdout
    assert (tmp_path / "cache" / "solc-0.8.37" / "node_modules" / "solc").is_dir()
    step("neurostack compile (npm installs solc-js)", clock)

    devnet = Devnet(bin_dir, project, env)
    devnets.append(devnet)
    devnet.wait_ready()
    step("neurostack up until ready", clock)
    tests = subprocess.run(
        [bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    logs = "".join(
        f"\n--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted((project / "data" / "logs").glob("*.log"))
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr + logs
    assert "6 passed" in tests.stdout
    step("the project's pytest", clock)

    # `neurostack demo` runs example 01 as the wheel ships it, against this devnet.
    where = "from neurostack.cli.demo import example_script; print(example_script())"
    script = run([bin_dir / "python", "-c", where], cwd=tmp_path, env=env).stdout.strip()
    assert script.startswith(str(tmp_path / "venv")), script
    demo = run([bin_dir / "neurostack", "demo"], cwd=project, env=env, timeout=300)
    assert "verified with hub_client's light client" in demo.stdout, demo.stdout
    assert "onnxruntime y = " in demo.stdout and "equal" in demo.stdout
    step("neurostack demo", clock)

    assert devnet.stop() == 0
    assert wait_gone(devnet.children, 10) == set()


def test_wheel_ships_example_01_for_the_demo_and_not_the_examples_tests(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("neurostack/examples/")}
    example = "neurostack/examples/01_hello_inference/"
    assert {
        "neurostack/examples/__init__.py", "neurostack/examples/_kit.py", example + "run.py",
        example + "README.md", example + "contracts/HelloInference.sol",
        example + "contracts/artifacts/HelloInference.json",
        example + "models/hello_regressor.onnx",
    } == shipped  # fmt: skip
