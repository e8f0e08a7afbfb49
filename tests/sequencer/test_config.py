"""chain.toml as a chain builder writes it: amounts, paths, and the errors for bad fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from sequencer.config import load_chain_config
from sequencer.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chain.toml"
    path.write_text(text)
    return path


def test_amounts_in_wei_gwei_or_ether(tmp_path: Path) -> None:
    config = load_chain_config(
        write(
            tmp_path,
            """
[chain]
name = "t"
chain_id = 7
base_fee = "0x77359400"
[dev]
accounts = 1
balance = "1.5 ether"
[[alloc]]
address = "0x1111111111111111111111111111111111111111"
balance = 42
""",
        )
    )
    assert config.chain.base_fee == 2 * 10**9
    assert config.dev.balance == 15 * 10**17
    premine = config.premine()
    assert premine["0x1111111111111111111111111111111111111111"] == 42
    assert premine[config.dev_accounts()[0].address] == 15 * 10**17
    assert config.data_dir == tmp_path.resolve() / "data"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_fee", '"lots"', "chain.base_fee: Value error, cannot read amount 'lots'"),
        ("base_fee", '"1 foo"', "chain.base_fee: Value error, cannot read amount '1 foo'"),
        ("base_fee", '"nan ether"', "cannot read amount 'nan ether'"),
        ("base_fee", '"0.5 wei"', "amount '0.5 wei' is not a whole number of wei"),
        ("base_fee", "-1", "chain.base_fee: Input should be greater than or equal to 0"),
        ("chain_id", "0", "chain.chain_id: Input should be greater than 0"),
    ],
)
def test_invalid_fields_name_the_field(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    lines = {"name": '"t"', "chain_id": "7", field: value}
    body = "\n".join(f"{k} = {v}" for k, v in lines.items())
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_chain_config(write(tmp_path, f"[chain]\n{body}\n"))


def test_invalid_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neurostack new"):
        load_chain_config(tmp_path / "chain.toml")


def test_sequencer_address_from_the_file_or_the_key(tmp_path: Path) -> None:
    from eth_account import Account

    from sequencer.config import sequencer_address

    key = Account.create()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "sequencer.key").write_text("0x" + bytes(key.key).hex())
    base = '[chain]\nname = "t"\nchain_id = 7\n'
    derived = sequencer_address(load_chain_config(write(tmp_path, base)))
    assert derived == bytes.fromhex(key.address[2:])
    given = base + f'[sequencer]\naddress = "{key.address.lower()}"\n'
    assert sequencer_address(load_chain_config(write(tmp_path, given))) == derived
    (tmp_path / "keys" / "sequencer.key").unlink()  # a follower has only chain.toml
    assert sequencer_address(load_chain_config(write(tmp_path, given))) == derived


def test_invalid_sequencer_address_that_is_not_the_keys(tmp_path: Path) -> None:
    from eth_account import Account

    from sequencer.config import sequencer_address

    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "sequencer.key").write_text("0x" + bytes(Account.create().key).hex())
    other = Account.create().address
    text = f'[chain]\nname = "t"\nchain_id = 7\n[sequencer]\naddress = "{other}"\n'
    with pytest.raises(ConfigError, match=r"sequencer.key is the key of 0x.*\[sequencer\] address"):
        sequencer_address(load_chain_config(write(tmp_path, text)))
    bad = '[chain]\nname = "t"\nchain_id = 7\n[sequencer]\naddress = "0x12"\n'
    with pytest.raises(ConfigError, match="sequencer.address.*20-byte hex address"):
        load_chain_config(write(tmp_path, bad))


def test_docs_security_origins_example_loads_and_allows_what_it_says() -> None:
    """The [rpc] example of docs/security.md is a valid chain.toml section."""
    import re
    import tomllib

    from sequencer.config import RpcSection
    from sequencer.rpc.origins import OriginPolicy

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", doc, re.DOTALL)
    rpc = RpcSection.model_validate(tomllib.loads(block)["rpc"])
    policy = OriginPolicy(rpc.cors_origins)
    for origin in ("http://localhost:5173", "https://app.example.com", "https://pr-7.example.com",
                   "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn"):  # fmt: skip
        assert policy.allows(origin.encode()), origin
    for origin in ("https://example.com.evil.io", "http://app.example.com", "null"):
        assert not policy.allows(origin.encode()), origin


@pytest.mark.parametrize(
    "origin", ["https://app.example.com/path", "app.example.com", "https://*", "http://h:port"]
)
def test_invalid_cors_origin_says_how_to_write_one(tmp_path: Path, origin: str) -> None:
    text = f'[chain]\nname = "t"\nchain_id = 7\n[rpc]\ncors_origins = ["{origin}"]\n'
    with pytest.raises(ConfigError, match=r"rpc\.cors_origins.*scheme://host\[:port\]"):
        load_chain_config(write(tmp_path, text))


def test_cors_origins_are_read_as_browsers_send_them(tmp_path: Path) -> None:
    text = '[chain]\nname = "t"\nchain_id = 7\n[rpc]\ncors_origins = ["HTTPS://App.Example.com/"]\n'
    assert load_chain_config(write(tmp_path, text)).rpc.cors_origins == ["https://app.example.com"]
