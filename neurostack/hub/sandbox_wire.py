"""The byte protocol between a sprinter and its sandbox processes (:mod:`.sandbox`).

A frame is ``u32 length ‖ u32 header length ‖ header (JSON) ‖ blobs``: the header is a JSON
object whose ``"blobs"`` lists the sizes of the raw byte strings that follow. Arrays
travel as a JSON description (``name``, ``dtype``, ``shape``) and one blob each: the raw
C-order bytes for numbers, a JSON list for strings. No pickle: the sprinter holds the
signing key and must never execute what a sandbox sends back, so everything it reads is
plain JSON and raw numbers, and a frame larger than the reader's limit is refused before
it is buffered. Both sides import only numpy and the standard library.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np

_LENGTHS = struct.Struct(">II")

Arrays = dict[str, np.ndarray]


class FrameError(ValueError):
    """A frame that does not follow the protocol, or one larger than the reader allows."""


def pack(header: dict[str, Any], blobs: list[bytes] | None = None) -> bytes:
    """One frame: ``header`` (JSON-ready) followed by ``blobs``."""
    blobs = blobs or []
    head = json.dumps({**header, "blobs": [len(b) for b in blobs]}, separators=(",", ":"))
    head_bytes = head.encode()
    body_length = 4 + len(head_bytes) + sum(len(b) for b in blobs)
    return b"".join([_LENGTHS.pack(body_length, len(head_bytes)), head_bytes, *blobs])


def frame_length(prefix: bytes | bytearray) -> int:
    """The body length announced by a frame's first four bytes."""
    return int.from_bytes(prefix[:4], "big")


def unpack(body: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """A frame body (everything after the first four bytes) as ``(header, blobs)``."""
    if len(body) < 4:
        raise FrameError("truncated frame")
    head_length = int.from_bytes(body[:4], "big")
    try:
        header = json.loads(body[4 : 4 + head_length])
        sizes = [int(n) for n in header["blobs"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise FrameError(f"unreadable frame header: {exc}") from None
    if not isinstance(header, dict) or any(n < 0 for n in sizes):
        raise FrameError("unreadable frame header")
    blobs, offset = [], 4 + head_length
    for size in sizes:
        blobs.append(body[offset : offset + size])
        offset += size
    if offset != len(body):
        raise FrameError("the frame's blobs do not add up to its length")
    return header, blobs


def encode_arrays(arrays: Arrays) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Arrays as (descriptions, blobs) for a frame."""
    described, blobs = [], []
    for name, value in arrays.items():
        array = np.asarray(value)
        if array.dtype.kind in "OUS":
            described.append({"name": name, "dtype": "str", "shape": list(array.shape)})
            blobs.append(json.dumps([str(v) for v in array.ravel().tolist()]).encode())
        else:
            described.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape)})
            blobs.append(np.ascontiguousarray(array).tobytes())
    return described, blobs


def decode_arrays(described: Any, blobs: list[bytes]) -> Arrays:
    """The inverse of :func:`encode_arrays`; :class:`FrameError` on anything inconsistent."""
    if not isinstance(described, list) or len(described) != len(blobs):
        raise FrameError("array descriptions and blobs do not match")
    out: Arrays = {}
    for item, blob in zip(described, blobs, strict=True):
        try:
            name, dtype, shape = str(item["name"]), str(item["dtype"]), tuple(item["shape"])
            count = math.prod(int(d) for d in shape)
            if dtype == "str":
                values = json.loads(blob)
                if not isinstance(values, list) or len(values) != count:
                    raise FrameError(f"string array {name!r} does not match its shape")
                array = np.array([str(v) for v in values], dtype=object).reshape(shape)
            else:
                kind = np.dtype(dtype)
                if kind.kind not in "biuf" or len(blob) != count * kind.itemsize:
                    raise FrameError(f"array {name!r} does not match its dtype and shape")
                array = np.frombuffer(blob, dtype=kind).reshape(shape)
        except (KeyError, TypeError, ValueError) as exc:
            raise FrameError(f"unreadable array: {exc}") from None
        out[name] = array
    return out
