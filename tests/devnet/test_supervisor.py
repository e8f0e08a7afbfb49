"""The supervisor starts real processes, waits for readiness, reports deaths, leaves no orphans."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from neurostack.devnet.errors import ServiceExited, ServiceNotReady
from neurostack.devnet.services import http_ok
from neurostack.devnet.supervisor import ServiceSpec, Supervisor
from neurostack.hub.broker import free_port
from tests.devnet.procs import alive, descendants, wait_gone

PY = sys.executable


def python(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


def http_server_spec(name: str) -> tuple[ServiceSpec, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    return ServiceSpec(name, argv, lambda: http_ok(url), ready_timeout=20), url


def test_started_services_are_ready_and_stopped_cleanly(tmp_path: Path) -> None:
    first, first_url = http_server_spec("web-1")
    second, second_url = http_server_spec("web-2")
    with Supervisor(tmp_path) as supervisor:
        services = supervisor.start([first, second])
        # Ready means answering, checked by the supervisor before start() returned.
        assert http_ok(first_url) and http_ok(second_url)
        pids = {s.process.pid for s in services}
        codes = supervisor.stop()
    assert set(codes) == {"web-1", "web-2"}
    assert wait_gone(pids, 5) == set()


def test_stop_takes_the_whole_process_group(tmp_path: Path) -> None:
    # The service forks a grandchild (like a Celery pool) and then waits.
    spec = ServiceSpec(
        "forker",
        python("""
            import subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print(child.pid, flush=True)
            time.sleep(60)
        """),
        None,
    )
    supervisor = Supervisor(tmp_path, grace=5)
    (service,) = supervisor.start([spec])
    deadline = time.monotonic() + 10
    while not (tmp_path / "forker.log").read_text().strip().splitlines()[1:]:
        assert time.monotonic() < deadline, "the service never printed its child's pid"
        time.sleep(0.05)
    grandchild = int((tmp_path / "forker.log").read_text().strip().splitlines()[-1])
    assert alive(grandchild)

    supervisor.stop()

    assert wait_gone({service.process.pid, grandchild}, 5) == set()


def test_a_service_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    spec = ServiceSpec(
        "stubborn",
        python("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("SIGTERM " + "IGNORED", flush=True)
            time.sleep(60)
        """),
        lambda: "SIGTERM IGNORED" in (tmp_path / "stubborn.log").read_text(),
        ready_timeout=20,
    )
    supervisor = Supervisor(tmp_path, grace=0.5)
    supervisor.start([spec])
    started = time.monotonic()
    codes = supervisor.stop()
    assert codes["stubborn"] == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_force_cuts_the_grace_period_short(tmp_path: Path) -> None:
    """A second Ctrl-C: `up` sets `force` and stubborn services are killed at once."""
    spec = ServiceSpec(
        "stubborn",
        python("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("SIGTERM " + "IGNORED", flush=True)
            time.sleep(60)
        """),
        lambda: "SIGTERM IGNORED" in (tmp_path / "stubborn.log").read_text(),
        ready_timeout=20,
    )
    force = threading.Event()
    supervisor = Supervisor(tmp_path, grace=30, force=force)
    supervisor.start([spec])
    threading.Timer(0.3, force.set).start()
    started = time.monotonic()
    assert supervisor.stop() == {"stubborn": -signal.SIGKILL}
    assert time.monotonic() - started < 5  # not the 30 s grace period


def test_invalid_service_exiting_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    spec = ServiceSpec(
        "broken",
        python("import sys; print('cannot open chain.toml'); sys.exit(3)"),
        lambda: False,
    )
    (tmp_path / "broken.log").write_text("output of an earlier run\n")
    with Supervisor(tmp_path) as supervisor, pytest.raises(ServiceExited) as caught:
        supervisor.start([spec])
    assert caught.value.service == "broken"
    assert caught.value.returncode == 3
    assert "cannot open chain.toml" in caught.value.log_tail
    assert "earlier run" not in caught.value.log_tail  # only this run's output is quoted
    assert "broken exited with status 3" in str(caught.value)


def test_invalid_service_never_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    spec = ServiceSpec(
        "mute", python("import time; time.sleep(60)"), lambda: False, ready_timeout=0.5
    )
    supervisor = Supervisor(tmp_path)
    with pytest.raises(ServiceNotReady) as caught:
        supervisor.start([spec])
    pid = supervisor.services[0].process.pid
    assert "not ready after" in str(caught.value)
    supervisor.stop()
    assert wait_gone({pid}, 5) == set()


def test_watch_reports_a_service_that_dies_later(tmp_path: Path) -> None:
    spec = ServiceSpec("flaky", python("import time; time.sleep(0.5); raise SystemExit(7)"), None)
    stop = threading.Event()
    with Supervisor(tmp_path) as supervisor:
        supervisor.start([spec])
        with pytest.raises(ServiceExited) as caught:
            supervisor.watch(stop)
    assert (caught.value.service, caught.value.returncode) == ("flaky", 7)


def test_watch_returns_when_asked_to_stop(tmp_path: Path) -> None:
    spec = ServiceSpec("sleeper", python("import time; time.sleep(60)"), None)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with Supervisor(tmp_path) as supervisor:
        supervisor.start([spec])
        supervisor.watch(stop)  # returns instead of blocking for 60 s
        assert supervisor.stop() == {"sleeper": -signal.SIGTERM}


@pytest.mark.slow
def test_children_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    """SIGKILL to the supervisor (no chance to clean up): its children still go."""
    script = f"""
        import sys, time
        from pathlib import Path
        from neurostack.devnet.supervisor import ServiceSpec, Supervisor
        sup = Supervisor(Path({str(tmp_path)!r}))
        (svc,) = sup.start([ServiceSpec("orphan", [sys.executable, "-c", "import time; time.sleep(60)"])])
        print(svc.process.pid, flush=True)
        time.sleep(60)
    """
    proc = subprocess.Popen(python(script), stdout=subprocess.PIPE, text=True)
    try:
        child = int(proc.stdout.readline())  # type: ignore[union-attr]
        assert alive(child) and child in descendants(proc.pid)
        proc.kill()
        proc.wait()
        assert wait_gone({child}, 5) == set()
    finally:
        proc.kill()
        proc.wait()


def test_later_batches_stop_before_the_ones_they_depend_on(tmp_path: Path) -> None:
    """Like the node stopping while Redis is still up: Redis (batch 0) stops last."""
    on_term = """
        import signal, sys, time
        from pathlib import Path
        def stop(*_):
            time.sleep(0.3)  # a slow, clean shutdown
            seen = Path({other!r}).read_text() if {other!r} else ""
            print("{name} stopped; other stopped first: " + str("STOPPED-B" in seen), flush=True)
            print("STOPPED" + "-{tag}", flush=True)  # split: the log's header quotes this code
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        print("READY" + "-{tag}", flush=True)
        while True:
            time.sleep(0.05)
    """

    def ready(name: str, tag: str) -> Callable[[], bool]:
        return lambda: f"READY-{tag}" in (tmp_path / f"{name}.log").read_text()

    broker = ServiceSpec(
        "broker",
        python(on_term.format(name="broker", tag="A", other=str(tmp_path / "app.log"))),
        ready("broker", "A"),
    )
    app = ServiceSpec(
        "app", python(on_term.format(name="app", tag="B", other="")), ready("app", "B")
    )
    with Supervisor(tmp_path) as supervisor:
        supervisor.start([broker])
        supervisor.start([app])
        assert supervisor.stop() == {"app": 0, "broker": 0}
    assert "broker stopped; other stopped first: True" in (tmp_path / "broker.log").read_text()
