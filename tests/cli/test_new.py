"""`neurostack new`: renders a chain project that loads, with the values given, and nothing else."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

import neurostack
from neurostack.cli.main import app
from neurostack.devnet.project import TEMPLATE_DIR, create_project
from neurostack.hub.samples import sample_model_path
from sequencer.config import load_chain_config

NEUROSTACK = Path(sys.executable).with_name("neurostack")
runner = CliRunner()


def run_new(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `neurostack new` as a user would, with HOME pointed at ``home``."""
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("COOKIECUTTER_CONFIG", None)
    return subprocess.run(
        [str(NEUROSTACK), "new", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tree(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@pytest.mark.slow
def test_new_with_flags_renders_a_loadable_chain(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()

    result = run_new(
        "alpha",
        "--no-input",
        "--chain-id",
        "31337000",
        "--chain-name",
        "Alpha Net",
        "--token-name",
        "Alpha Gas",
        "--token-symbol",
        "ALG",
        "--block-time",
        "0.5",
        "--gas-limit",
        "20000000",
        "--rpc-port",
        "9545",
        "--hub-port",
        "9600",
        "--workers",
        "3",
        "--modes",
        "vanilla, zk",
        home=home,
        cwd=work,
    )

    assert result.returncode == 0, result.stderr
    config = load_chain_config(work / "alpha" / "chain.toml")
    assert config.chain.name == "Alpha Net"
    assert config.chain.chain_id == 31337000
    assert config.chain.block_time == 0.5
    assert config.chain.gas_limit == 20_000_000
    assert (config.token.name, config.token.symbol) == ("Alpha Gas", "ALG")
    assert (config.rpc.port, config.hub.port, config.hub.workers) == (9545, 9600, 3)
    assert config.inference.modes == ["VANILLA", "ZK"]
    # Nothing outside the target: the home folder and the working folder stay as they were.
    assert tree(home) == set()
    assert {p.parts[0] for p in tree(work)} == {"alpha"}


def test_new_generates_private_keys_admitted_in_chain_toml(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["new", "beta", "--no-input", "--output-dir", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    project = tmp_path / "out" / "beta"
    config = load_chain_config(project / "chain.toml")

    keys = sorted(p.name for p in (project / "keys").iterdir())
    assert keys == ["attestation-root.key", "sequencer.key", "sprinter-0.key", "sprinter-1.key"]
    for key_file in (project / "keys").iterdir():
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sprinter_addresses = [
        Account.from_key((project / p).read_text().strip()).address
        for p in config.hub.sprinter_keys
    ]
    assert config.inference.sprinters == sprinter_addresses
    root = Account.from_key((project / "keys" / "attestation-root.key").read_text().strip())
    assert config.inference.attestation_roots == [root.address]
    assert config.key_file.is_file()
    # Fresh keys per project, never a shared constant.
    other = tmp_path / "again"
    assert (
        runner.invoke(app, ["new", "beta", "--no-input", "--output-dir", str(other)]).exit_code == 0
    )
    assert (other / "beta" / "keys" / "sequencer.key").read_text() != config.key_file.read_text()


def test_new_writes_the_sequencer_address_so_the_chain_spec_needs_no_key(tmp_path: Path) -> None:
    from sequencer.chain import genesis_hash
    from sequencer.chainspec import chain_spec

    project = create_project("delta", tmp_path, {})
    config = load_chain_config(project / "chain.toml")
    sequencer = Account.from_key(config.key_file.read_text().strip())
    assert config.sequencer.address == sequencer.address
    with_key = chain_spec(config)
    assert with_key.registry.owner == bytes.fromhex(sequencer.address[2:])
    # a follower has chain.toml and no keys: the same spec, the same genesis
    config.key_file.unlink()
    public = chain_spec(load_chain_config(project / "chain.toml"))
    assert public == with_key and genesis_hash(public) == genesis_hash(with_key)


def test_new_defaults_come_from_the_template(tmp_path: Path) -> None:
    defaults = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())

    result = runner.invoke(app, ["new", "gamma", "--no-input", "--output-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    config = load_chain_config(tmp_path / "gamma" / "chain.toml")
    assert config.chain.name == "gamma"
    assert config.chain.chain_id == defaults["chain_id"]
    assert config.token.symbol == defaults["token_symbol"]
    assert config.rpc.port == defaults["rpc_port"]
    assert config.dev.mnemonic == defaults["dev_mnemonic"]
    assert config.dev_accounts()[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert "gamma" in result.output and "neurostack up" in result.output


def test_invalid_existing_target_is_refused_untouched(tmp_path: Path) -> None:
    target = tmp_path / "delta"
    target.mkdir()
    (target / "notes.txt").write_text("mine")

    result = runner.invoke(app, ["new", "delta", "--no-input", "--output-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert tree(target) == {Path("notes.txt")}
    assert (target / "notes.txt").read_text() == "mine"


def test_new_fills_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "epsilon").mkdir()
    result = runner.invoke(app, ["new", "epsilon", "--no-input", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "epsilon" / "chain.toml").is_file()


@pytest.mark.parametrize(
    ("flag", "value", "complaint"),
    [
        ("--chain-id", "0", "chain id"),
        ("--token-symbol", "WAY-TOO-LONG-SYMBOL", "token symbol"),
        ("--modes", "VANILLA,MAGIC", "modes"),
        ("--rpc-port", "70000", "rpc_port"),
        ("--chain-name", 'evil" = 1', "chain_name"),
        ("--dev-mnemonic", "not a mnemonic at all", "mnemonic"),
    ],
)
def test_invalid_values_are_refused_before_writing(
    tmp_path: Path, flag: str, value: str, complaint: str
) -> None:
    result = runner.invoke(
        app, ["new", "zeta", "--no-input", "--output-dir", str(tmp_path), flag, value]
    )
    assert result.exit_code == 1
    assert complaint in result.output
    assert not (tmp_path / "zeta").exists()


def test_invalid_project_name_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", "../escape", "--no-input", "--output-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "project name" in result.output
    assert tree(tmp_path) == set()


def test_new_writes_a_pyproject_pinning_this_neurostack(tmp_path: Path) -> None:
    folder = create_project("iota", tmp_path)
    project = tomllib.loads((folder / "pyproject.toml").read_text())

    assert project["project"]["name"] == "iota"
    assert project["project"]["dependencies"] == [f"neurostack[all]=={neurostack.__version__}"]
    assert {r.split(">")[0] for r in project["project"]["optional-dependencies"]["test"]} == {
        "pytest",
        "web3",
    }
    assert project["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert not (folder / "pytest.ini").exists()  # one place for the settings


def test_new_project_carries_the_example_model(tmp_path: Path) -> None:
    folder = create_project("theta", tmp_path)
    model = folder / "models" / "mlp_regressor.onnx"
    assert model.read_bytes() == sample_model_path("mlp_regressor").read_bytes()


def test_no_template_file_is_git_ignored() -> None:
    """A template file matched by the repo's .gitignore would be missing from every clone."""
    files = [
        str(p.relative_to(TEMPLATE_DIR.parents[1]))
        for p in TEMPLATE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *files],
        cwd=TEMPLATE_DIR.parents[1], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ignored.returncode == 1, f"ignored by .gitignore: {ignored.stdout}"


def test_new_production_profile_turns_the_devnet_conveniences_off(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["new", "prod", "--production", "--no-input", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    config = load_chain_config(tmp_path / "prod" / "chain.toml")
    assert config.rpc.dev_methods is False
    assert config.rpc.cors_origins == []
    assert config.dev_accounts() == []  # no publicly known funded keys
    assert config.inference.allow_unregistered_models is False
    assert config.inference.attestation_root_key is None
    assert config.inference.attestation_roots == config.inference.approved_measurements == []
    assert config.inference.tee_keys == []
    assert not (tmp_path / "prod" / "keys" / "attestation-root.key").exists()
    owner = Account.from_key(config.key_file.read_text().strip()).address
    assert config.premine() == {owner: 10**6 * 10**18}
    assert len(config.inference.sprinters) == len(config.hub.sprinter_keys) == 2


def test_new_devnet_profile_keeps_them(tmp_path: Path) -> None:
    assert (
        runner.invoke(app, ["new", "dev", "--no-input", "--output-dir", str(tmp_path)]).exit_code
        == 0
    )
    config = load_chain_config(tmp_path / "dev" / "chain.toml")
    assert config.rpc.dev_methods and config.inference.allow_unregistered_models
    assert "http://localhost:*" in config.rpc.cors_origins
    assert len(config.dev_accounts()) == 10 and config.inference.attestation_root_key is not None


@pytest.mark.slow
def test_invalid_dev_calls_and_browser_origins_on_a_production_node(tmp_path: Path) -> None:
    """The production chain as a node serves it: no evm_* methods, no browser origin."""
    import httpx

    from sequencer.node import Node
    from sequencer.rpc import RpcServer

    create_project("prod", tmp_path, {"profile": "production", "block_time": 0})
    config = load_chain_config(tmp_path / "prod" / "chain.toml")
    node = Node(config)
    node.start()
    try:
        with RpcServer(node) as server:
            mine = httpx.post(server.url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine"})
            assert mine.json()["error"]["code"] == -32601
            page = httpx.post(
                server.url,
                json={"jsonrpc": "2.0", "id": 2, "method": "eth_chainId"},
                headers={"origin": "http://localhost:3000"},
            )
            assert page.status_code == 403
            script = httpx.post(
                server.url, json={"jsonrpc": "2.0", "id": 3, "method": "eth_chainId"}
            )
            assert int(script.json()["result"], 16) == config.chain.chain_id
    finally:
        node.stop()
