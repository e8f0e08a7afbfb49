"""A faster keccak256 behind eth-hash: pycryptodome's C keccak called directly.

eth-hash's pycryptodome backend builds a new ``Keccak_Hash`` object for every hash (a
state allocation, a ctypes smart pointer, a result buffer, five foreign calls that each
release and retake the GIL): 12-17 us for a 64-byte input on the 2-core VM, where the C
code itself needs well under a microsecond. py-trie and py-evm hash every trie node they
write or decode, so on the node this was a fifth of the block producer's time.

:func:`keccak256` calls the same C functions of the same library (reset, absorb, digest)
on one state per thread, through ``ctypes.PyDLL`` (the GIL stays held during the short
calls; handing it over three times per hash costs more than the hash when the node's
threads contend for it): 3-5x faster. :func:`install` checks it against eth-hash's own
backend on inputs around every block-size boundary and only then makes it the hasher of
``eth_hash.auto.keccak``, which eth-utils, py-evm and py-trie all call; if pycryptodome
is not loaded through ctypes (its cffi build) or a check fails, eth-hash stays as it is.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

_RATE = 136  # keccak256's block size in bytes: the test vectors straddle its multiples
_local = threading.local()
_installed = False


class _State:
    """One thread's keccak state and digest buffer; freed with the thread's locals."""

    def __init__(self, lib: Any) -> None:
        pointer = ctypes.c_void_p()
        if lib.keccak_init(ctypes.byref(pointer), ctypes.c_size_t(64), ctypes.c_ubyte(24)):
            raise OSError("keccak_init failed")
        self.lib = lib
        self.pointer = ctypes.c_void_p(pointer.value)
        self.buffer = ctypes.create_string_buffer(32)

    def __del__(self) -> None:
        self.lib.keccak_destroy(self.pointer)


def _load() -> Any | None:
    try:
        from Crypto.Hash import keccak as cryptodome_keccak
    except ImportError:
        return None
    path = getattr(getattr(cryptodome_keccak, "_raw_keccak_lib", None), "_name", None)  # a ctypes CDLL has one; cffi does not
    return ctypes.PyDLL(path) if isinstance(path, str) else None


def _make(lib: Any) -> Callable[[bytes | bytearray], bytes]:
    reset, absorb, digest = lib.keccak_reset, lib.keccak_absorb, lib.keccak_digest
    size32, padding, size_t = ctypes.c_size_t(32), ctypes.c_ubyte(0x01), ctypes.c_size_t

    def keccak256(data: bytes | bytearray) -> bytes:
        try:
            state = _local.state
        except AttributeError:
            state = _local.state = _State(lib)
        if type(data) is not bytes:
            data = bytes(data)
        pointer, buffer = state.pointer, state.buffer
        reset(pointer)
        if absorb(pointer, data, size_t(len(data))) or digest(pointer, buffer, size32, padding):
            raise OSError("keccak failed")
        return buffer.raw

    return keccak256


def install() -> bool:
    """Make :func:`keccak256` eth-hash's hasher after checking it; True when it is."""
    global _installed
    if _installed:
        return True
    from eth_hash.auto import keccak
    from eth_hash.backends import pycryptodome

    lib = _load()
    if lib is None:
        return False
    fast = _make(lib)
    for length in (0, 1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 1000, 4096):
        data = bytes((i * 7 + length) & 0xFF for i in range(length))
        if fast(data) != pycryptodome.keccak256(data) or fast(bytearray(data)) != fast(data):
            return False
    keccak.hasher = fast  # type: ignore[assignment]
    _installed = True
    return True
