"""Build Neuro Stack's wheel and install it into clean virtual environments, as a user would.

The wheel is built from a copy of the files git tracks (or would track), never from the
working tree itself, so a file that git ignores cannot make the test pass, and the build
leaves no ``build/`` or ``*.egg-info`` behind. Dependencies come from a wheelhouse kept in
Neuro Stack's cache folder (``<cache>/test-wheelhouse``, see ``neurostack.solcjs.cache_dir``):
installs run with ``--no-index`` from it, and only when it lacks something does ``pip
download`` fill it from the package index (once per new dependency). That keeps the test
at about a minute of installing instead of two to three of resolving against the index.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from neurostack.solcjs import cache_dir

REPO = Path(__file__).resolve().parents[2]
PIP_TIMEOUT = 900


def pip_env() -> dict[str, str]:
    """The environment for pip runs: quiet, and never the repository's own venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(args: list[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; fail with its output (the reason a user would see) when it fails."""
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of a clean copy of the repository (build isolation, as `python -m build`)."""
    source = out / "source"
    files = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO
    ).stdout.split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out / "dist", source],
        env=pip_env(), timeout=PIP_TIMEOUT,
    )  # fmt: skip
    (wheel,) = (out / "dist").glob("neurostack-*.whl")
    return wheel


def wheelhouse() -> Path:
    folder = cache_dir() / "test-wheelhouse"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def make_venv(folder: Path) -> Path:
    """A new virtual environment without system site-packages; returns its bin/ folder."""
    run([sys.executable, "-m", "venv", folder])
    return folder / "bin"


def pip_install(bin_dir: Path, *requirements: str) -> None:
    """Install ``requirements`` into the venv from the wheelhouse, filling it first if needed.

    ``--no-compile``: the modules are byte-compiled on first import instead, by the
    processes the test runs anyway.
    """
    house = wheelhouse()
    offline = [bin_dir / "python", "-m", "pip", "install", "-q", "--no-compile",
               "--no-index", "--find-links", house, *requirements]  # fmt: skip
    first = subprocess.run(
        [str(a) for a in offline], capture_output=True, text=True, env=pip_env(),
        timeout=PIP_TIMEOUT, check=False,
    )  # fmt: skip
    if first.returncode == 0:
        return
    # One filler at a time (other test runs share the cache): a wheel half written by one
    # `pip download` is never read by another's install.
    with open(house / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(
            [sys.executable, "-m", "pip", "download", "-q", "-d", house, "--find-links", house,
             *requirements],
            env=pip_env(), timeout=PIP_TIMEOUT,
        )  # fmt: skip
        for own in house.glob("neurostack-*.whl"):  # the wheel under test: installed by path
            own.unlink()
        run(offline, env=pip_env(), timeout=PIP_TIMEOUT)
