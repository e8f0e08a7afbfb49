"""The sprinter's sandbox processes, for real (child interpreters running onnxruntime):
every job is bounded in time and memory, a sandbox that fails is replaced and the pool
keeps serving, and a model that slipped past the upload check still cannot resolve a
path or see the sprinter's environment."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from neurostack.hub.errors import JobRejected
from neurostack.hub.samples import sample_model_path
from neurostack.hub.sandbox import (
    JobMemoryLimit,
    JobTimeLimit,
    ModelSpec,
    SandboxFailure,
    SandboxPool,
    sandbox_environment,
)
from neurostack.hub.settings import HubSettings

from . import hostile_models as hm
from .helpers import run_onnx

MiB = 1024 * 1024
TIME_LIMIT = 1.0
MEMORY = 256 * MiB
HONEST = np.array([[0.5, -1.0, 2.0, 0.25]], dtype=np.float32)


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    settings = HubSettings(
        providers="cpu",
        intra_op_threads=1,
        job_time_limit=TIME_LIMIT,
        job_memory_bytes=MEMORY,
        max_output_elements=10_000,
    )
    sandboxes = SandboxPool(settings)
    sandboxes.prestart(1)
    yield sandboxes
    sandboxes.close()


def _run(
    pool: SandboxPool, data: bytes, x: np.ndarray, *, cid: str | None = None, deadline: float = 30
) -> dict[str, np.ndarray]:
    _, outputs = pool.run_job(
        cid or f"model-{hash(data)}",
        None,
        lambda: data,
        lambda spec: {"x": x.astype(np.float32)},
        time.time() + deadline,
    )
    return outputs


def _honest(pool: SandboxPool) -> None:
    data = sample_model_path("mlp_regressor").read_bytes()
    got = _run(pool, data, HONEST, cid="honest")
    expected = run_onnx(sample_model_path("mlp_regressor"), {"x": HONEST})
    np.testing.assert_array_equal(got["y"], expected["y"])


def test_honest_model_runs_and_a_known_spec_skips_the_load(pool: SandboxPool) -> None:
    _honest(pool)
    spec = ModelSpec({"x": ("float32", (None, 4))}, ("y",), "CPUExecutionProvider")

    def must_not_load() -> bytes:
        raise AssertionError("the sandbox had the model already")

    _, outputs = pool.run_job(
        "honest", spec, must_not_load, lambda s: {"x": HONEST}, time.time() + 30
    )
    assert outputs["y"].shape == (1, 1)


def test_invalid_endless_loop_is_stopped_at_the_time_limit(pool: SandboxPool) -> None:
    before = set(pool.pids())
    started = time.monotonic()
    with pytest.raises(JobTimeLimit, match="job_time_limit"):
        _run(pool, hm.endless_loop(), HONEST)
    assert time.monotonic() - started < TIME_LIMIT + 5  # not the loop's 2^62 iterations
    killed = before - set(pool.pids())
    assert killed, "the looping sandbox was not replaced"
    for pid in killed:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    _honest(pool)  # the pool goes on serving


def test_invalid_job_deadline_cuts_the_run_shorter_than_the_limit(pool: SandboxPool) -> None:
    with pytest.raises(JobTimeLimit, match="deadline passed"):
        _run(pool, hm.endless_loop(), HONEST, deadline=0.3)
    _honest(pool)


@pytest.mark.parametrize("build", [hm.allocation_sized_by_input, hm.expand_sized_by_input])
def test_invalid_allocation_chosen_by_the_input_hits_the_memory_limit(
    pool: SandboxPool, build: object
) -> None:
    data = build()  # type: ignore[operator]
    small = _run(pool, data, np.array([[4, 4, 1, 1]]))
    assert float(small["y"]) == 16.0
    # 20000 x 20000 float32 = 1.6 GB: more than a job may have, far less than the machine.
    with pytest.raises(JobMemoryLimit, match="job_memory_bytes"):
        _run(pool, data, np.array([[20_000, 20_000, 1, 1]]))
    _honest(pool)


def test_invalid_output_larger_than_the_cap(pool: SandboxPool) -> None:
    data = hm.output_sized_by_input()
    assert _run(pool, data, np.array([[2, 3, 0, 0]]))["y"].shape == (2, 12)
    with pytest.raises(JobRejected, match="max_output_elements"):
        _run(pool, data, np.array([[100, 100, 0, 0]]))
    _honest(pool)


def test_invalid_sandbox_killed_mid_job_fails_the_job_only(pool: SandboxPool) -> None:
    import threading

    _honest(pool)  # the sandbox is up: the kill below lands in the job, not in a start

    def kill_the_runner() -> None:
        time.sleep(0.3)
        for pid in pool.pids():
            os.kill(pid, 9)

    threading.Thread(target=kill_the_runner).start()
    with pytest.raises(SandboxFailure, match="SIGKILL"):
        _run(pool, hm.endless_loop(), HONEST, cid="loop-killed")
    _honest(pool)


def test_invalid_model_that_slipped_through_cannot_resolve_a_path(
    pool: SandboxPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even without the upload check, external data resolves only in the sandbox's empty
    folder: a file beside the sprinter (its working directory) or at an absolute path is
    not read."""
    (tmp_path / "secret.bin").write_bytes(b"\x01" * 16)
    monkeypatch.chdir(tmp_path)
    for location in ("secret.bin", str(tmp_path / "secret.bin"), "../secret.bin"):
        with pytest.raises(JobRejected, match="cannot load the model"):
            _run(pool, hm.external_initializer(location), HONEST, cid=location)
    _honest(pool)


def test_sandboxes_see_no_secret_and_work_in_an_empty_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "sprinter.key"
    key_file.write_text("0x" + "22" * 32)
    monkeypatch.setenv("NEUROSTACK_HUB_WORKER_KEY", "0x" + "22" * 32)
    monkeypatch.setenv("REDIS_URL", "redis://:password@127.0.0.1:1/0")
    assert not any(k.startswith("NEUROSTACK") or k == "REDIS_URL" for k in sandbox_environment())
    with socket.socket() as sock, key_file.open():
        sock.bind(("127.0.0.1", 0))  # the sprinter holds a socket and its key file open
        fresh = SandboxPool(HubSettings(providers="cpu", intra_op_threads=1))
        try:
            _honest(fresh)
            [pid] = fresh.pids()
            cwd = os.readlink(f"/proc/{pid}/cwd")
            assert cwd == fresh.workdir and os.listdir(cwd) == []
            assert oct(os.stat(cwd).st_mode & 0o777) == "0o700"
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"NEUROSTACK" not in environ and b"REDIS_URL" not in environ
            fds = Path(f"/proc/{pid}/fd")
            held = {os.readlink(fd) for fd in fds.iterdir()}
            assert str(key_file) not in held
            assert not any(h.startswith("socket:") for h in held)
        finally:
            fresh.close()


def test_a_sandbox_that_died_while_idle_is_not_handed_out(pool: SandboxPool) -> None:
    _honest(pool)
    for pid in pool.pids():
        os.kill(pid, 9)
    time.sleep(0.2)
    _honest(pool)  # a fresh sandbox serves it; the dead one is not blamed on the job
