"""Chain projects: render ``templates/rollup/`` into a new folder (``neurostack new``).

Rendering goes through cookiecutter's Python API with a private configuration
(``default_config`` with a throw-away ``replay_dir``/``cookiecutters_dir``): the
user's ``~/.cookiecutterrc`` is not read and nothing is written outside the target
folder. The defaults live in one place, the template's ``cookiecutter.json``; the
CLI passes only the values the user gave.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter
from eth_account import Account
from eth_utils import ValidationError

from neurostack import __version__
from sequencer.config import ChainConfig, load_chain_config
from sequencer.errors import ConfigError

from .errors import ProjectError

#: The template: ``templates/rollup/`` in the repository, ``neurostack/templates/rollup/``
#: in a wheel (setup.py maps the folder into the package), found the same way in both.
#: pip installs packages as folders, so it is a real directory, as cookiecutter needs.
TEMPLATE_DIR = Path(str(importlib.resources.files("neurostack.templates") / "rollup"))

KNOWN_MODES = ("VANILLA", "ZK", "TEE", "OPTIMISTIC")
PROFILES = ("devnet", "production")  # docs/security.md lists what production turns off
# A folder name that is also a valid Python project name (the generated pyproject.toml).
_SLUG = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,11}$")  # wallets such as MetaMask cap symbols at 11
_PLAIN_TEXT = re.compile(r'^[^"\\\n\r\t{}]{1,64}$')  # safe inside a TOML basic string


def template_variables() -> dict[str, Any]:
    """The template's variables with their defaults (``cookiecutter.json``)."""
    if not (TEMPLATE_DIR / "cookiecutter.json").is_file():
        raise ProjectError(
            f"the chain template is missing at {TEMPLATE_DIR}: this installation of Neuro Stack "
            "is incomplete; reinstall it (`pip install --force-reinstall neurostack`)"
        )
    raw = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def validate_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check the user's values before rendering; return them normalised."""
    out = dict(values)
    problems: list[str] = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    if "project_slug" in out:
        check(
            bool(_SLUG.match(str(out["project_slug"]))),
            f"project name {out['project_slug']!r}: use letters, digits, '.', '_' or '-' "
            "(a folder name, at most 64 characters, starting and ending with a letter or digit)",
        )
    for key in ("chain_name", "token_name"):
        if key in out:
            check(
                bool(_PLAIN_TEXT.match(str(out[key]))),
                f"{key} {out[key]!r}: 1-64 characters without quotes, backslashes or braces",
            )
    if "token_symbol" in out:
        check(
            bool(_SYMBOL.match(str(out["token_symbol"]))),
            f"token symbol {out['token_symbol']!r}: 1-11 letters or digits",
        )
    if "chain_id" in out:
        check(
            0 < int(out["chain_id"]) < 2**63,
            f"chain id {out['chain_id']}: must be between 1 and 2^63-1",
        )
    if "block_time" in out:
        check(
            float(out["block_time"]) >= 0,
            f"block time {out['block_time']}: must be >= 0 (0 = mine on demand)",
        )
    if "gas_limit" in out:
        check(int(out["gas_limit"]) >= 5_000, f"gas limit {out['gas_limit']}: must be >= 5000")
    for key in ("rpc_port", "hub_port"):
        if key in out:
            check(0 < int(out[key]) < 65536, f"{key} {out[key]}: must be a port (1-65535)")
    if "workers" in out:
        check(0 <= int(out["workers"]) <= 64, f"workers {out['workers']}: must be 0-64")
    if "modes" in out:
        modes = [m.strip().upper() for m in str(out["modes"]).split(",") if m.strip()]
        unknown = [m for m in modes if m not in KNOWN_MODES]
        check(
            bool(modes) and not unknown,
            f"modes {out['modes']!r}: a comma-separated list of {', '.join(KNOWN_MODES)}",
        )
        out["modes"] = ",".join(modes)
    if "profile" in out:
        check(
            out["profile"] in PROFILES,
            f"profile {out['profile']!r}: one of {', '.join(PROFILES)}",
        )
    if "dev_mnemonic" in out:
        Account.enable_unaudited_hdwallet_features()
        try:
            Account.from_mnemonic(str(out["dev_mnemonic"]))
        except ValidationError:
            problems.append("dev mnemonic: not a valid BIP-39 mnemonic")
    if problems:
        raise ProjectError("; ".join(problems))
    return out


def create_project(
    name: str,
    output_dir: Path = Path("."),
    values: dict[str, Any] | None = None,
    *,
    no_input: bool = True,
) -> Path:
    """Render a new chain project ``output_dir/name`` and return its folder.

    ``values`` overrides template variables (keys of ``cookiecutter.json``); the
    rest keep their defaults, or are asked for when ``no_input`` is false.
    Raises :class:`ProjectError` for bad values or a non-empty target.
    """
    template_variables()  # fails early with advice when the template is missing
    context = validate_values({"project_slug": name, **(values or {})})
    context["_neurostack_version"] = __version__  # the project's pyproject.toml pins it
    output_dir = Path(output_dir).resolve()
    target = output_dir / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ProjectError(
            f"{target} already exists and is not empty; choose another name or "
            "--output-dir, or remove it first"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neurostack-new-") as scratch:
        try:
            rendered = Path(
                cookiecutter(
                    str(TEMPLATE_DIR),
                    no_input=no_input,
                    extra_context=context,
                    output_dir=str(output_dir),
                    overwrite_if_exists=target.is_dir(),  # only an empty folder gets here
                    default_config={"replay_dir": scratch, "cookiecutters_dir": scratch},
                )
            )
        except FailedHookException as exc:
            raise ProjectError(f"generating the chain's keys failed: {exc}") from None
        except CookiecutterException as exc:
            raise ProjectError(f"rendering the chain template failed: {exc}") from None
    try:
        if "ZK" in str(context.get("modes", "")).upper().split(","):
            add_dev_srs(rendered)
        check_project(rendered)
    except ProjectError:
        shutil.rmtree(rendered, ignore_errors=True)
        raise
    return rendered


DEV_SRS_LOGROWS = 10
"""The circuit size `neurostack new` makes a development SRS for (the sample MLP's)."""


def write_dev_srs(directory: Path, logrows: int) -> tuple[Path, str]:
    """Write a DEVELOPMENT SRS ``directory/kzg<logrows>.srs`` (ezkl ``gen_srs``: its secret
    is known to this machine, never for production); the file and its 0x-sha256."""
    from neurostack.zk.ezkl_backend import load_ezkl

    ezkl = load_ezkl()  # ProofSystemUnavailable names the fix
    path = directory / f"kzg{logrows}.srs"
    if path.exists():
        raise ProjectError(f"{path} exists; the chain pins its sha256, so it is never overwritten")
    directory.mkdir(parents=True, exist_ok=True)
    ezkl.gen_srs(str(path), logrows)
    return path, "0x" + hashlib.sha256(path.read_bytes()).hexdigest()


def add_dev_srs(project: Path) -> None:
    """A new project whose modes include ZK: a development SRS for 2^10-row circuits in
    ``zk/`` and its ``[[inference.zk_srs]]`` entry in chain.toml (skipped, with a comment
    saying how, when ezkl is not installed: `neurostack up` then names the fix)."""
    from neurostack.zk.errors import ProofSystemUnavailable

    toml = project / "chain.toml"
    try:
        _, digest = write_dev_srs(project / "zk", DEV_SRS_LOGROWS)
    except ProofSystemUnavailable as exc:
        toml.write_text(toml.read_text() + f"\n# Mode ZK: no SRS was made ({exc}).\n")
        return
    toml.write_text(
        toml.read_text()
        + "\n# Mode ZK: a DEVELOPMENT SRS made by `neurostack new` (its secret was on this "
        "machine;\n# a production chain lists a ceremony file). See [inference] above.\n"
        f'[[inference.zk_srs]]\nfile = "zk/kzg{DEV_SRS_LOGROWS}.srs"\nsha256 = "{digest}"\n'
    )


def check_project(folder: Path) -> ChainConfig:
    """Load the project's chain.toml exactly as the node will; a failure is a template bug."""
    try:
        return load_chain_config(folder / "chain.toml")
    except ConfigError as exc:
        raise ProjectError(f"the rendered chain.toml does not load: {exc}") from None
