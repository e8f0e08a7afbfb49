"""Small helpers shared by the hub tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from neurostack.hub.store import ModelStore


def store_files(store_dir: Path) -> list[str]:
    """Every file in a model store except the Redis data a test stack keeps next to it
    and the hub's id (``hub-id``, written when the API starts)."""
    return sorted(
        str(p.relative_to(store_dir))
        for p in Path(store_dir).rglob("*")
        if p.is_file() and "redis" not in p.parts and p.name != "hub-id"
    )


def assert_store_unchanged(store: ModelStore, before: list[str]) -> None:
    assert store_files(store.root) == before
    assert list(store.tmp_dir.iterdir()) == []


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A direct onnxruntime run (CPU): the reference the hub's outputs must equal."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))
