"""Planning a devnet from chain.toml, `--reset`, and the banner (no processes started)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from neurostack.devnet.banner import print_banner
from neurostack.devnet.devnet import DevnetOptions, plan, reset_state
from neurostack.devnet.errors import ProjectError
from neurostack.devnet.project import create_project
from sequencer.config import ChainConfig, load_chain_config


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project("plan", tmp_path_factory.mktemp("projects"), {"rpc_port": 18545})


@pytest.fixture
def config(project: Path) -> ChainConfig:
    return load_chain_config(project / "chain.toml")


def names(stages: list) -> list[list[str]]:
    return [[spec.name for spec in stage] for stage in stages]


def test_full_devnet_starts_redis_first_then_the_rest(project: Path, config: ChainConfig) -> None:
    stages, devnet = plan(config, DevnetOptions(project / "chain.toml"))

    assert names(stages) == [["redis"], ["hub", "sprinter-0", "sprinter-1", "node"], ["explorer"]]
    redis_url = devnet.redis_url
    assert redis_url and devnet.redis_embedded
    (redis_server,) = stages[0]
    hub, *workers, node = stages[1]
    # Password-protected; the URL (password inside) reaches services by environment only.
    password = (project / "hub" / "redis" / "password").read_text().strip()
    assert redis_url.startswith(f"redis://:{password}@127.0.0.1:")
    for spec in (redis_server, hub, *workers, node):
        assert not any(password in arg for arg in spec.argv), spec.name
    assert hub.env["REDIS_URL"] == redis_url and all(
        w.env["REDIS_URL"] == redis_url for w in workers
    )
    assert devnet.rpc_http == "http://127.0.0.1:18545"
    assert devnet.rpc_ws == "ws://127.0.0.1:18545"
    # the node is wired to the hub's broker: its PIPE sends model calls to the sprinters
    assert list(node.argv[-3:]) == ["node", "--config", str(project / "chain.toml")]
    assert node.env["REDIS_URL"] == redis_url


def test_workers_share_the_sprinter_keys_round_robin(project: Path, config: ChainConfig) -> None:
    stages, devnet = plan(config, DevnetOptions(project / "chain.toml", workers=3))

    workers = [s for s in stages[1] if s.name.startswith("sprinter-")]
    keys = [w.argv[list(w.argv).index("--key-file") + 1] for w in workers]
    expected = [str(project / "keys" / f"sprinter-{i}.key") for i in (0, 1, 0)]
    assert keys == expected
    assert devnet.workers == 3


def test_external_redis_is_used_as_given(project: Path, config: ChainConfig) -> None:
    url = "redis://10.0.0.5:6379/2"
    stages, devnet = plan(config, DevnetOptions(project / "chain.toml", redis_url=url))

    assert names(stages) == [["hub", "sprinter-0", "sprinter-1", "node"], ["explorer"]]
    assert devnet.redis_url == url and not devnet.redis_embedded


def test_no_hub_runs_the_node_alone(project: Path, config: ChainConfig) -> None:
    stages, devnet = plan(config, DevnetOptions(project / "chain.toml", hub=False))
    assert names(stages) == [["node"], ["explorer"]]
    assert devnet.hub_url is None and devnet.redis_url is None
    assert stages[0][0].env["REDIS_URL"] == ""  # no hub: model calls dropped with a hint


def test_joining_a_running_hub_starts_only_the_node_and_explorer(project: Path, config: ChainConfig) -> None:
    url = "redis://:pw@127.0.0.1:6390/0"
    options = DevnetOptions(project / "chain.toml", hub_url="http://127.0.0.1:9600", redis_url=url)
    stages, devnet = plan(config, options)
    assert names(stages) == [["node"], ["explorer"]]  # no Redis, hub or workers of its own
    assert stages[0][0].env["REDIS_URL"] == url
    assert devnet.hub_url == "http://127.0.0.1:9600" and devnet.hub_external
    assert devnet.workers == 0 and not devnet.redis_embedded


def test_invalid_joining_a_hub_without_its_broker_says_where_the_url_is(
    project: Path, config: ChainConfig
) -> None:
    options = DevnetOptions(project / "chain.toml", hub_url="http://127.0.0.1:9600")
    with pytest.raises(ProjectError, match="REDIS_URL.*hub/redis/url"):
        plan(config, options)


def test_reset_deletes_chain_and_hub_state_only(project: Path, config: ChainConfig) -> None:
    (config.data_dir / "logs").mkdir(parents=True)
    (config.data_dir / "chain.sqlite").write_text("x")
    (project / "hub" / "redis").mkdir(parents=True, exist_ok=True)

    reset_state(config)

    assert not config.data_dir.exists() and not (project / "hub").exists()
    assert (project / "chain.toml").is_file() and config.key_file.is_file()
    assert (project / "contracts" / "Storage.sol").is_file()


def test_invalid_reset_outside_the_project_is_refused(project: Path, config: ChainConfig) -> None:
    config.sequencer.data_dir = Path("..")
    with pytest.raises(ProjectError, match="refusing to --reset"):
        reset_state(config)
    assert project.parent.is_dir()


def test_invalid_workers_without_sprinter_keys(project: Path, config: ChainConfig) -> None:
    config.hub.sprinter_keys = []
    with pytest.raises(ProjectError, match="sprinter_keys is empty"):
        plan(config, DevnetOptions(project / "chain.toml"))


def test_banner_shows_endpoints_and_marks_dev_keys(project: Path, config: ChainConfig) -> None:
    _, devnet = plan(config, DevnetOptions(project / "chain.toml"))
    out = io.StringIO()

    print_banner(Console(file=out, width=60, color_system=None), devnet)

    text = out.getvalue()
    assert devnet.redis_url and devnet.redis_url.split("@")[0] not in text  # no password
    assert "password in hub/redis/password" in text
    assert "http://127.0.0.1:18545" in text and "ws://127.0.0.1:18545" in text
    assert str(config.chain.chain_id) in text
    assert f"{config.token.name} ({config.token.symbol})" in text
    assert "http://127.0.0.1:8600" in text
    keys_heading = text.index("DEV ONLY")
    for account in config.dev_accounts():
        # Whole on one line even in a narrow terminal, after the warning.
        line = next(l for l in text.splitlines() if account.address in l)
        assert account.private_key in line
        assert text.index(account.address) > keys_heading
