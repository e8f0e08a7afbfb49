"""A sprinter's sandbox process: loads models from bytes and runs them, nothing else.

Started by :class:`neurostack.hub.sandbox.Sandbox` as ``python -P -m
neurostack.hub.sandbox_child CONFIG`` (a fresh interpreter, not a fork: it never had the
sprinter's key in memory), with its working directory in an empty private folder, an
environment stripped of everything but what Python and CUDA need, and no inherited file
descriptors but its pipes. Before it reads any model it bounds itself:

- ``RLIMIT_AS`` (address space) to its start-up size plus the job memory limit, or, when
  it runs CUDA (whose driver reserves far more address space than it uses),
  ``RLIMIT_DATA`` to the same bound on its heap and the CUDA arena to the limit;
- ``RLIMIT_CORE`` 0: a crash writes no memory image anywhere.

Requests and answers are frames of :mod:`.sandbox_wire` on stdin/stdout (stdout is moved
to a private descriptor and fd 1 pointed at stderr, so a stray print cannot corrupt the
channel). The process exits when its input closes or its parent is gone.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .sandbox_wire import decode_arrays, encode_arrays, frame_length, pack, unpack
from .sessions import CPU, CUDA, ProviderChoice, SessionCache

PARENT_CHECK_SECONDS = 1.0
MEMORY_WORDS = ("bad_alloc", "failed to allocate", "out of memory", "cannot allocate")


class _Input:
    """Frames from the sprinter, read in large chunks (one system call per small frame)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            chunk = os.read(self.fd, max(1 << 16, size - len(self.buffer)))
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def frame(self) -> bytes | None:
        """The next frame's body; None when the sprinter closed the pipe."""
        if not self._fill(4):
            return None
        end = 4 + frame_length(self.buffer)
        if not self._fill(end):
            return None
        body = bytes(self.buffer[4:end])
        del self.buffer[:end]
        return body


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _status_kib(field: str) -> int | None:
    """A ``VmSize``/``VmData`` figure of this process in bytes (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _limit_memory(memory_bytes: int, provider: str) -> int | None:
    """Bound this process as the module docstring says; returns the limit set, or None
    where the platform cannot tell the start-up size or refuses the limit (not Linux)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    kind, field = (
        (resource.RLIMIT_DATA, "VmData") if provider == CUDA else (resource.RLIMIT_AS, "VmSize")
    )
    start = _status_kib(field)
    if start is None:
        return None
    limit = start + memory_bytes
    try:
        resource.setrlimit(kind, (limit, limit))
    except (ValueError, OSError):
        return None
    return limit


def _watch_parent(parent: int) -> None:
    """Exit when the sprinter is gone, even in the middle of a long model run."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _is_memory_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or any(word in text for word in MEMORY_WORDS)


def _error(exc: BaseException, kind: str) -> dict[str, Any]:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"op": "error", "kind": "memory" if _is_memory_error(exc) else kind, "message": text}


class Child:
    """The request loop of one sandbox process."""

    def __init__(self, config: dict[str, Any], out_fd: int) -> None:
        self.config = config
        self.out_fd = out_fd
        self.choice = ProviderChoice(
            config["providers"],
            int(config["intra_op_threads"]),
            data_dir=os.getcwd(),
            gpu_mem_limit=int(config["memory_bytes"]),
        )
        self.cache = SessionCache(int(config["session_cache_bytes"]), self.choice)

    def start(self) -> None:
        provider = CPU
        if self.config["providers"] != "cpu":
            # Decided with a model shipped with Neuro Stack, before any limit or any
            # uploaded model: the CUDA probe loads drivers that need room.
            self.choice.create(Path(self.config["probe_model"]).read_bytes())
            provider = self.choice.decided or CPU
        limit = _limit_memory(int(self.config["memory_bytes"]), provider)
        self.send({"op": "ready", "provider": provider, "limit": limit})

    def send(self, header: dict[str, Any], blobs: list[bytes] | None = None) -> None:
        _write_all(self.out_fd, pack(header, blobs))

    def serve(self, in_fd: int) -> None:
        frames = _Input(in_fd)
        while True:
            body = frames.frame()
            if body is None:
                return
            header, blobs = unpack(body)
            op = header.get("op")
            if op == "load":
                self.load(str(header["cid"]), blobs[0])
            elif op == "run":
                self.run(header, blobs)
            else:
                self.send({"op": "error", "kind": "protocol", "message": f"unknown op {op!r}"})

    def load(self, cid: str, data: bytes) -> None:
        try:
            loaded = self.cache.load(cid, data)
        except Exception as exc:  # noqa: BLE001 - onnxruntime's Fail, InvalidGraph, ...
            self.send(_error(exc, "invalid_model"))
            return
        self.send(
            {
                "op": "loaded",
                "inputs": {k: [d, list(s)] for k, (d, s) in loaded.input_specs.items()},
                "outputs": list(loaded.output_names),
                "provider": loaded.provider,
            }
        )

    def run(self, header: dict[str, Any], blobs: list[bytes]) -> None:
        loaded = self.cache.get(str(header["cid"]))
        if loaded is None:
            self.send({"op": "need_model"})
            return
        try:
            feeds = decode_arrays(header["arrays"], blobs)
            outputs = loaded.session.run(list(loaded.output_names), feeds)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidArgument
            self.send(_error(exc, "model_failed"))
            return
        limit = int(header["max_output_elements"])
        total = sum(int(getattr(o, "size", 1)) for o in outputs)
        if total > limit:
            self.send(
                {
                    "op": "error",
                    "kind": "output_too_large",
                    "message": f"the model produced {total} output values, more than "
                    f"this hub's limit of {limit} per job (max_output_elements)",
                }
            )
            return
        try:
            described, out_blobs = encode_arrays(
                dict(zip(loaded.output_names, outputs, strict=True))
            )
        except Exception as exc:  # noqa: BLE001 - e.g. an output type the wire cannot carry
            self.send(_error(exc, "model_failed"))
            return
        self.send({"op": "result", "arrays": described}, out_blobs)


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    out_fd = os.dup(1)
    os.dup2(2, 1)  # print() and native writes to stdout land in the sprinter's log
    # The probe's and onnxruntime's provider messages are the sprinter's to log, once.
    logging.getLogger("neurostack.hub.sessions").setLevel(logging.ERROR)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    child = Child(config, out_fd)
    child.start()
    child.serve(0)


__all__ = ["main"]

if __name__ == "__main__":
    main(sys.argv)
