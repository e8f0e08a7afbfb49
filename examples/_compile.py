"""Compile each example's ``contracts/*.sol`` into ``contracts/artifacts/<Name>.json``.

``python examples/_compile.py`` (all examples) or ``python examples/_compile.py
01_hello_inference``. It does what ``neurostack compile`` does for a chain project, with
the pinned solc-js of ``neurostack.solidity``: every ``.sol`` file under ``contracts/`` is
one source unit named by its path from the example's folder, imports of
``neurostack/…`` resolve to Neuro Stack's Solidity library, and each contract, library and
interface defined there gets an artifact (``abi``, ``bytecode``, ``deployedBytecode``,
``contractName``, ``sourceName``, ``compiler``, ``evmVersion``). The artifacts are
committed; ``examples/test_catalog.py`` checks they equal a fresh compile.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from neurostack.solidity import compile_contracts

EXAMPLES = Path(__file__).resolve().parent


def examples() -> list[Path]:
    """Every example folder (``NN_name``), in order."""
    return sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name[:2].isdigit())


def build(example: Path) -> dict[str, str]:
    """``{"<Name>.json": artifact text}`` for the contracts of one example."""
    contracts = example / "contracts"
    files = sorted(p for p in contracts.rglob("*.sol") if "artifacts" not in p.parts)
    sources = {p.relative_to(example).as_posix(): p.read_text() for p in files}
    compiled = compile_contracts(sources, import_roots=[example])
    return {
        f"{name}.json": json.dumps(c.to_artifact(), indent=2, sort_keys=True) + "\n"
        for name, c in sorted(compiled.items())
        if c.source in sources
    }


def write(example: Path) -> list[str]:
    out = example / "contracts" / "artifacts"
    out.mkdir(exist_ok=True)
    files = build(example)
    for stale in out.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (out / name).write_text(text)
    return sorted(files)


if __name__ == "__main__":
    # Every example with contracts of its own (04 uses example 01's).
    chosen = [EXAMPLES / name for name in sys.argv[1:]] or [
        p for p in examples() if (p / "contracts").is_dir()
    ]
    for folder in chosen:
        print(f"{folder.name}: {', '.join(write(folder))}")
