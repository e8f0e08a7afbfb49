"""How the test suite runs on parallel workers (pytest-xdist), for ``tests/`` and ``examples/``.

``make test`` runs ``pytest -n 4 --dist loadgroup`` (docs/development.md, "Tests"): four
worker processes, each taking whole groups of tests. Most of a serial run's time is spent
waiting for servers (devnets, hubs, workers, browsers); four workers keep two cores busy.

Groups: a test marked ``@pytest.mark.xdist_group("name")`` runs on the worker of that
group; every other test is grouped by its module, so a module's fixtures (one devnet per
module) start once, as in a serial run. Modules that use one of the costly session
fixtures (``SHARED_SESSION_FIXTURES``: the wheel, the shared hub, the examples' devnet)
form one group per fixture, so it starts once. The longest groups start first.

``@pytest.mark.alone``: a test that measures time (blocks on time) runs while no other
test runs on any worker. Each test holds a shared lock while it is set up, runs and is torn
down; an ``alone`` test takes it exclusively, once no other test holds it. Its module is
scheduled last, so its worker waits while the others finish what is left of the run.

A serial run (``-n 0``, ``-p no:xdist``, or ``pytest`` without ``-n``) ignores all of this.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

GROUPS_FILE = "xdist-groups.json"
# Session fixtures that start something costly: every module using one runs in one group,
# so one worker starts it once (as a serial run does) instead of every worker once.
SHARED_SESSION_FIXTURES = {
    "wheel": "packaging",  # tests/packaging: builds the wheel (and fills the wheelhouse)
    "hub_stack": "hub-stack",  # tests/conftest.py: a hub with two workers
    "devnet_project": "examples-devnet",  # examples/conftest.py: `neurostack up`
}
# The longest groups (measured: minutes on two loaded cores) start first, so that none of
# them starts last and holds up the end of the run. The rest follow in collection order;
# a module with an ``alone`` test runs last (its worker waits for the others to finish).
LONGEST_FIRST = [
    "packaging",
    "tests/cli/test_up.py",
    "tests/e2e/test_multichain.py",
    "examples-devnet",
    "tests/test_architecture.py",
    "hub-stack",
    "tests/e2e/test_light_client.py",
    "tests/e2e/test_demo.py",
    "tests/explorer/test_up.py",
    "tests/e2e/test_zk.py",
    "tests/sequencer/test_follower.py",
]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers it too; here for runs with -p no:xdist
    config.addinivalue_line(
        "markers",
        "xdist_group(name): run on the same worker as the other tests of this group",
    )


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _run_dir(config: pytest.Config) -> Path | None:
    """A folder of this run that its xdist controller and workers share; None if serial."""
    if hasattr(config, "workerinput"):  # xdist gives a worker <the run's basetemp>/popen-gwN
        return Path(config.getoption("basetemp")).parent
    if config.pluginmanager.has_plugin("dsession"):  # the controller
        return Path(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test's group (see the module's doc); on a worker, the longest groups first, and
    the test ids with their groups written for the controller's scheduler."""
    shared: dict[str, str] = {}
    for item in items:
        for fixture, group in SHARED_SESSION_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()):
                shared.setdefault(_module(item), group)
    alone = {_module(item) for item in items if item.get_closest_marker("alone")}
    groups: dict[str, str] = {}
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None:
            groups[item.nodeid] = str(mark.args[0] if mark.args else mark.kwargs["name"])
        else:
            groups[item.nodeid] = shared.get(_module(item), _module(item))
    if not hasattr(config, "workerinput"):
        return

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        if _module(item) in alone:
            return len(LONGEST_FIRST) + 1
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # every worker sorts alike: the collections stay equal
    folder = _run_dir(config)
    assert folder is not None
    scratch = folder / f"{GROUPS_FILE}.{os.getpid()}"
    scratch.write_text(json.dumps(groups))
    os.replace(scratch, folder / GROUPS_FILE)  # every worker writes the same


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: whole groups per worker, in the workers' collection order.

    pytest-xdist's own loadgroup reads ``xdist_group`` marks into test ids, which pytest 9
    no longer lets a plugin change; this scheduler reads the groups the workers wrote."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    folder = _run_dir(config)
    assert folder is not None

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                path = folder / GROUPS_FILE
                self.groups = json.loads(path.read_text()) if path.exists() else {}
            return self.groups.get(nodeid) or nodeid.split("::", 1)[0]

    config.option.loadscopereorder = False  # keep the longest-first order
    return GroupScheduling(config, log)


class SharedLock:
    """A readers-writer lock between the worker processes of one run (``flock``): tests
    share it, an ``alone`` test takes it exclusively once no other test holds it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        fcntl.flock(self.fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


_LOCK: list[SharedLock] = []


def _shared_lock(config: pytest.Config) -> SharedLock | None:
    """The run's lock on an xdist worker; None in a serial run."""
    if not hasattr(config, "workerinput"):
        return None
    if not _LOCK:
        folder = _run_dir(config)
        assert folder is not None
        _LOCK.append(SharedLock(folder / "xdist-tests.lock"))
    return _LOCK[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    lock = _shared_lock(item.config)
    if lock is None:
        return (yield)
    with lock.hold(exclusive=item.get_closest_marker("alone") is not None):
        return (yield)
