"""ONNX Runtime sessions for sprinters: provider choice and a byte-bounded LRU cache.

Sessions are created only inside a sprinter's sandbox processes (:mod:`.sandbox_child`),
always from the model's bytes, never from a path. Their options shut the doors onnxruntime
leaves open to a model file: no session options read from the model's metadata
(``session.load_config_from_model``), and external data resolved only inside
``data_dir``, the sandbox's empty private folder (onnxruntime itself refuses absolute
paths and ``..``); custom-op libraries are never registered.

Provider choice: ``onnxruntime-gpu`` advertises ``CUDAExecutionProvider`` even on a
machine without a GPU and then silently runs on the CPU, so the advertised list says
nothing. The first session is created asking for CUDA (then CPU); whatever
``session.get_providers()`` reports afterwards is what really runs, and that decision
is logged once and reused for every later session of the process.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import onnxruntime as ort

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

# onnxruntime's type strings -> the numpy dtype names neurostack.protocol expects.
ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "str",
}

Specs = dict[str, tuple[str, tuple[int | None, ...]]]


@dataclass(frozen=True)
class LoadedModel:
    """A ready session with what the sprinter needs to feed it."""

    session: ort.InferenceSession
    input_specs: Specs
    output_names: tuple[str, ...]
    size: int
    provider: str


class ProviderChoice:
    """Decides once per process which execution provider really runs."""

    def __init__(
        self,
        preference: str = "auto",
        intra_op_threads: int = 0,
        *,
        data_dir: str | None = None,
        gpu_mem_limit: int | None = None,
    ) -> None:
        self.preference = preference
        self.intra_op_threads = intra_op_threads
        self.data_dir = data_dir
        self.gpu_mem_limit = gpu_mem_limit
        self._decided: list[Any] | None = None
        self._lock = threading.Lock()

    def _cuda(self) -> Any:
        if self.gpu_mem_limit is None:
            return CUDA
        # The CUDA arena's bound: a model cannot take more device memory than a job may.
        return (CUDA, {"gpu_mem_limit": str(self.gpu_mem_limit)})

    def _options(self) -> ort.SessionOptions:
        opts = ort.SessionOptions()
        if self.intra_op_threads:
            opts.intra_op_num_threads = self.intra_op_threads
        opts.add_session_config_entry("session.load_config_from_model", "0")
        if self.data_dir is not None:
            opts.add_session_config_entry(
                "session.model_external_initializers_file_folder_path", self.data_dir
            )
        # Spinning threads burn CPU between the small jobs of a shared machine.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3  # errors only: CUDA fallback warnings are handled here
        return opts

    @property
    def decided(self) -> str | None:
        """The provider that really runs, once the first session has told (else None)."""
        with self._lock:
            decided = self._decided
        if decided is None:
            return None
        return CUDA if len(decided) > 1 else CPU

    def create(self, model_bytes: bytes) -> tuple[ort.InferenceSession, str]:
        with self._lock:
            decided = self._decided
        if decided is None:
            wanted = [CPU] if self.preference == "cpu" else [self._cuda(), CPU]
            quiet = self.preference == "auto"
            if quiet:
                # On CPU-only machines the CUDA attempt prints loader errors; "auto" expects
                # that, so they are muted for the probe ("cuda" shows them).
                ort.set_default_logger_severity(4)
            try:
                session = ort.InferenceSession(model_bytes, self._options(), providers=wanted)
            finally:
                if quiet:
                    ort.set_default_logger_severity(2)
            actual = session.get_providers()
            provider = CUDA if CUDA in actual else CPU
            if self.preference == "cuda" and provider != CUDA:
                log.warning("CUDA was requested but onnxruntime runs on the CPU here")
            hint = (
                " (use --providers cuda to see why CUDA is unavailable)"
                if (quiet and provider != CUDA)
                else ""
            )
            log.warning(
                "sprinter runs onnxruntime with %s (session reports %s)%s", provider, actual, hint
            )
            with self._lock:
                self._decided = [self._cuda(), CPU] if provider == CUDA else [CPU]
            return session, provider
        session = ort.InferenceSession(model_bytes, self._options(), providers=decided)
        return session, session.get_providers()[0]


def _specs(session: ort.InferenceSession) -> Specs:
    specs: Specs = {}
    for arg in session.get_inputs():
        dtype = ORT_DTYPES.get(arg.type, arg.type)
        shape = tuple(d if isinstance(d, int) else None for d in (arg.shape or ()))
        specs[arg.name] = (dtype, shape)
    return specs


class SessionCache:
    """Loaded models by CID, least recently used evicted first, bounded by the summed
    size of the model files (a proxy for the sessions' memory)."""

    def __init__(self, max_bytes: int, providers: ProviderChoice) -> None:
        self.max_bytes = max_bytes
        self.providers = providers
        self._items: OrderedDict[str, LoadedModel] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, cid: str) -> LoadedModel | None:
        with self._lock:
            item = self._items.get(cid)
            if item is not None:
                self._items.move_to_end(cid)
            return item

    def load(self, cid: str, model_bytes: bytes) -> LoadedModel:
        """Create a session for ``model_bytes`` and cache it under ``cid``."""
        session, provider = self.providers.create(model_bytes)
        item = LoadedModel(
            session=session,
            input_specs=_specs(session),
            output_names=tuple(o.name for o in session.get_outputs()),
            size=len(model_bytes),
            provider=provider,
        )
        with self._lock:
            old = self._items.pop(cid, None)
            if old is not None:
                self._bytes -= old.size
            self._items[cid] = item
            self._bytes += item.size
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.size
        return item

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def __contains__(self, cid: str) -> bool:
        return cid in self._items
