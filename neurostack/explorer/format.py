"""How values are written on the pages (Jinja filters) and tensors laid out as tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from neurostack.protocol.tensors import ModelInput, ModelOutput, number_to_decimal

MAX_SHOWN_VALUES = 256  # numbers of one tensor shown in full; the rest are counted


def short(value: Any, keep: int = 6) -> str:
    """``0x1234ab…cdef`` for hashes and addresses."""
    text = str(value or "")
    return text if len(text) <= 2 * keep + 3 else f"{text[: keep + 2]}…{text[-keep:]}"


def amount(wei: Any, decimals: int = 18) -> str:
    """A wei amount in token units, exact, without trailing zeros."""
    value = Decimal(int(wei)) / (Decimal(10) ** decimals)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def gwei(wei: Any) -> str:
    return amount(wei, 9)


def number(value: Any) -> str:
    return f"{int(value):,}"


def utc(timestamp: Any) -> str:
    return dt.datetime.fromtimestamp(int(timestamp), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(timestamp: Any, now: float) -> str:
    seconds = int(now - int(timestamp))
    if seconds < 0:
        return "just now"
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def tensor_tables(value: ModelInput | ModelOutput) -> list[dict[str, Any]]:
    """Each tensor as ``{kind, name, shape, rows, hidden}``; numbers keep value/decimals."""
    out: list[dict[str, Any]] = []
    for t in value.numbers:
        cells = [
            {"text": str(number_to_decimal(n)), "value": n.value, "decimals": n.decimals}
            for n in t.values[:MAX_SHOWN_VALUES]
        ]
        width = t.shape[-1] if len(t.shape) >= 1 and t.shape[-1] > 0 else max(len(cells), 1)
        rows = [cells[i : i + width] for i in range(0, len(cells), width)] or [[]]
        out.append(
            {
                "kind": "numbers",
                "name": t.name,
                "shape": list(t.shape),
                "rows": rows,
                "hidden": max(len(t.values) - MAX_SHOWN_VALUES, 0),
            }
        )
    for s in value.strings:
        cells = [{"text": v} for v in s.values[:MAX_SHOWN_VALUES]]
        out.append(
            {
                "kind": "strings",
                "name": s.name,
                "shape": [len(s.values)],
                "rows": [cells],
                "hidden": max(len(s.values) - MAX_SHOWN_VALUES, 0),
            }
        )
    for j in getattr(value, "jsons", ()):
        out.append(
            {"kind": "json", "name": j.name, "shape": [], "rows": [[{"text": j.value}]],
             "hidden": 0}
        )  # fmt: skip
    return out


FILTERS = {"short": short, "amount": amount, "gwei": gwei, "number": number, "utc": utc}
