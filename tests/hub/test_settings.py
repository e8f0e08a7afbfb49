"""Hub settings: built from options and environment, keys read with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurostack.hub.errors import SettingsError
from neurostack.hub.settings import HubSettings

KEY = "0x" + "11" * 32


def test_environment_then_options() -> None:
    env = {
        "REDIS_URL": "redis://a:1/0",
        "NEUROSTACK_HUB_JOB_DEADLINE": "12.5",
        "NEUROSTACK_HUB_WORKER_KEY": KEY,
    }
    s = HubSettings.from_environ(env, job_deadline=7.0, store_dir=None)
    assert (s.redis_url, s.job_deadline, s.signing_key()) == (
        "redis://a:1/0",
        7.0,
        bytes([0x11]) * 32,
    )
    assert HubSettings.from_environ(s.to_environ()) == s


def test_key_file(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(KEY + "\n")
    assert HubSettings(worker_key_file=path).signing_key() == bytes([0x11]) * 32


def test_invalid_setting_names_the_option() -> None:
    with pytest.raises(SettingsError, match="--max-upload-bytes"):
        HubSettings.from_environ({"NEUROSTACK_HUB_MAX_UPLOAD_BYTES": "-1"})


@pytest.mark.parametrize("key", ["", "0x1234", "zz" * 32])
def test_invalid_worker_keys(key: str) -> None:
    with pytest.raises(SettingsError, match="32-byte hex private key"):
        HubSettings(worker_key=key).signing_key()


def test_invalid_missing_key_says_how_to_give_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--key-file"):
        HubSettings().signing_key()
    with pytest.raises(SettingsError, match="cannot read"):
        HubSettings(worker_key_file=tmp_path / "missing").signing_key()
