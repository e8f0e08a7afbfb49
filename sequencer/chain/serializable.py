"""py-evm's rlp objects (accounts, logs, receipts, headers) built from their field values.

rlp's ``Serializable`` constructor checks its arguments by name (sets built and compared
on every call) and walks each value to turn lists into tuples. The node builds accounts,
receipts and headers from values py-evm's execution produced (ints, bytes, tuples), by
the thousand per block, so neither check has anything to do there: :func:`build` stores
the fields as rlp's constructor would, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def build(cls: Any, values: Iterable[Any]) -> Any:
    """``cls(*values)`` for an rlp ``Serializable`` class and all its field values (no
    defaults filled in), each already immutable: ints, bytes, tuples."""
    built = cls.__new__(cls)
    built.__dict__.update(zip(cls._meta.field_attrs, values))
    return built
