"""The pinned solc-js for installs without the repository's ``node_modules``.

A clone of Neuro Stack compiles with the ``solc`` package that ``npm ci`` put in the
repository's ``node_modules`` (``package.json`` pins it). A wheel install has no such
folder, so the first compile installs exactly that version with npm into a cache
folder of the user, and every later compile reuses it:

- cache folder: ``$NEUROSTACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/neurostack``, else
  ``~/.cache/neurostack``; solc-js lands in ``<cache>/solc-<version>/node_modules/solc``;
- npm verifies the package against the registry's integrity hash; ``--ignore-scripts``
  runs nothing from it at install time (solc-js ships its compiler as ``soljson.js``);
- the install goes to a temporary folder next to the target and is renamed into place,
  so two first compiles at once never see a half-installed compiler.

Node.js 18+ with npm must be on ``PATH``; without it the error says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

INSTALL_TIMEOUT_S = 300.0
NODE_HINT = (
    "Node.js 18+ (with npm) is needed to compile Solidity: install it from "
    "https://nodejs.org or your system's package manager (e.g. `apt install nodejs npm`)"
)


class SolcInstallError(RuntimeError):
    """Node.js/npm is missing or npm could not install the pinned solc-js."""


def cache_dir() -> Path:
    """Neuro Stack's cache folder (``NEUROSTACK_CACHE_DIR``, XDG, or ``~/.cache``)."""
    explicit = os.environ.get("NEUROSTACK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "neurostack"


def installed_version(node_modules: Path) -> str | None:
    """The version of ``node_modules/solc``, or None when there is none."""
    try:
        return str(json.loads((node_modules / "solc" / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def cached_node_modules(version: str) -> Path:
    """Where the cache keeps solc-js ``version`` (it may not be installed yet)."""
    return cache_dir() / f"solc-{version}" / "node_modules"


def install_solc(version: str, report: Callable[[str], None] | None = None) -> Path:
    """Install solc-js ``version`` into the cache (once) and return its ``node_modules``."""
    target = cached_node_modules(version)
    if installed_version(target) == version:
        return target
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SolcInstallError(f"{NODE_HINT}; Neuro Stack then installs solc-js {version} itself")
    home = target.parent
    home.parent.mkdir(parents=True, exist_ok=True)
    if report is not None:
        report(f"Installing solc-js {version} with npm into {home} (first compile only) ...")
    scratch = Path(tempfile.mkdtemp(prefix=f".solc-{version}-", dir=home.parent))
    try:
        proc = subprocess.run(
            [npm, "install", "--prefix", str(scratch), "--no-save", "--no-package-lock",
             "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
             "--prefer-offline", f"solc@{version}"],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False,
        )  # fmt: skip
        if proc.returncode != 0 or installed_version(scratch / "node_modules") != version:
            raise SolcInstallError(
                f"npm could not install solc-js {version} (exit {proc.returncode}): "
                f"{proc.stderr.strip()[-1500:] or proc.stdout.strip()[-1500:]}"
            )
        if home.exists() and installed_version(target) != version:
            shutil.rmtree(home, ignore_errors=True)  # a broken earlier copy
        try:
            scratch.rename(home)
        except OSError as exc:  # another process finished first: use its copy
            if installed_version(target) != version:
                raise SolcInstallError(f"cannot move solc-js into {home}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise SolcInstallError(
            f"npm did not install solc-js {version} within {INSTALL_TIMEOUT_S:.0f} s"
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
