"""Known contract ABIs: name deployed contracts, decode logs and calldata.

Sources are compiled artifacts (``{"contractName", "abi", "deployedBytecode"}`` JSON): the
ones Neuro Stack ships (``neurostack/contracts/*.json``, which include the registry's
``INeuroRegistry``) and a chain project's ``contracts/artifacts/*.json``. A log is decoded
by its topic 0 with any event of that signature (as Etherscan's event database does);
calldata by its 4-byte selector; a contract is named when its runtime code equals an
artifact's, ignoring the trailing CBOR metadata (which changes with source comments).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from neurostack.solidity import PACKAGE_CONTRACTS_DIR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Value:
    """One decoded argument: its name, Solidity type and display text."""

    name: str
    type: str
    text: str

    @property
    def is_address(self) -> bool:
        return self.type == "address"


@dataclass(frozen=True)
class Decoded:
    """A decoded event or function call."""

    contract: str
    name: str
    signature: str
    args: tuple[Value, ...]


def canonical_type(item: dict[str, Any]) -> str:
    """``uint256``, ``(string,uint8)[]``: the type as signatures spell it."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item.get("components", []))
        return f"({inner}){kind[5:]}"
    return kind


def signature_of(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(canonical_type(i) for i in item.get('inputs', []))})"


def display(kind: str, value: Any) -> str:
    """How a decoded ABI value is shown (addresses checksummed, bytes as 0x-hex)."""
    if kind == "address":
        return str(to_checksum_address(value))
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        inner = kind[: kind.rindex("[")] if kind.endswith("]") else ""
        if kind.startswith("(") and not kind.endswith("]"):
            parts = _split_tuple(kind[1:-1])
            return "(" + ", ".join(display(t, v) for t, v in zip(parts, value, strict=False)) + ")"
        return "[" + ", ".join(display(inner, v) for v in value) + "]"
    return str(value)


def _split_tuple(types: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(types):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(types[start:i])
            start = i + 1
    if types:
        parts.append(types[start:])
    return parts


def strip_metadata(code: bytes) -> bytes:
    """Runtime code without Solidity's trailing CBOR metadata (its length is the last 2 bytes)."""
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    if 0 < length <= len(code) - 2 and code[-length - 2 : -length - 1][:1] in (b"\xa1", b"\xa2"):
        return code[: -length - 2]
    return code


class AbiBook:
    """Events, functions and runtime codes of every artifact found in ``folders``."""

    def __init__(self, folders: Iterable[Path] = ()) -> None:
        self.events: dict[bytes, list[tuple[str, dict[str, Any]]]] = {}
        self.functions: dict[bytes, list[tuple[str, dict[str, Any]]]] = {}
        self.codes: dict[bytes, str] = {}
        self.sources: list[Path] = []
        for folder in [PACKAGE_CONTRACTS_DIR, *folders]:
            for path in sorted(Path(folder).glob("*.json")):
                self._load(path)

    def _load(self, path: Path) -> None:
        try:
            artifact = json.loads(path.read_text())
            name, abi = str(artifact["contractName"]), list(artifact["abi"])
        except (OSError, ValueError, KeyError, TypeError):
            log.debug("not a contract artifact: %s", path)
            return
        self.sources.append(path)
        for item in abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                topic = keccak(text=signature_of(item))
                self.events.setdefault(topic, []).append((name, item))
            elif item.get("type") == "function":
                selector = keccak(text=signature_of(item))[:4]
                self.functions.setdefault(selector, []).append((name, item))
        runtime = str(artifact.get("deployedBytecode") or "0x")
        if len(runtime) > 2:
            try:
                self.codes.setdefault(strip_metadata(bytes.fromhex(runtime[2:])), name)
            except ValueError:
                pass

    def contract_name(self, code: bytes) -> str | None:
        """The artifact whose runtime code this is, if any."""
        return self.codes.get(strip_metadata(code)) if code else None

    def decode_log(self, topics: list[str], data: str) -> Decoded | None:
        """Decode a log by its topic 0; ``None`` when no known event fits."""
        if not topics:
            return None
        raw_topics = [bytes.fromhex(t[2:]) for t in topics]
        body = bytes.fromhex(data[2:])
        for contract, item in self.events.get(raw_topics[0], []):
            inputs = item.get("inputs", [])
            indexed = [i for i in inputs if i.get("indexed")]
            if len(indexed) != len(raw_topics) - 1:
                continue
            try:
                plain = decode([canonical_type(i) for i in inputs if not i.get("indexed")], body)
            except (DecodingError, ValueError, OverflowError):
                continue
            values, topic_iter, plain_iter = [], iter(raw_topics[1:]), iter(plain)
            for i in inputs:
                kind = canonical_type(i)
                if i.get("indexed"):
                    topic = next(topic_iter)
                    dynamic = kind in ("string", "bytes") or kind.endswith("]") or "(" in kind
                    text = (
                        "0x" + topic.hex() if dynamic else display(kind, decode([kind], topic)[0])
                    )
                else:
                    text = display(kind, next(plain_iter))
                values.append(Value(str(i.get("name") or ""), kind, text))
            return Decoded(contract, str(item["name"]), signature_of(item), tuple(values))
        return None

    def decode_call(self, data: bytes) -> Decoded | None:
        """Decode calldata by its selector; ``None`` when no known function fits."""
        for contract, item in self.functions.get(data[:4], []):
            kinds = [canonical_type(i) for i in item.get("inputs", [])]
            try:
                args = decode(kinds, data[4:])
            except (DecodingError, ValueError, OverflowError):
                continue
            values = tuple(
                Value(str(i.get("name") or ""), kind, display(kind, v))
                for i, kind, v in zip(item.get("inputs", []), kinds, args, strict=True)
            )
            return Decoded(contract, str(item["name"]), signature_of(item), values)
        return None
