"""Build the style models of example 07: the collective's style and a fork of it.

A "style" maps a sketch's ``[brightness, warmth, contrast, saturation]`` (each 0..1) to
the palette the collective would paint it in: ``[red, green, blue]`` (0..1). The
synthetic styles below stand in for what contributors' artworks would teach a model:
``style.onnx`` is warm and soft, ``style_fork.onnx`` (the fork a newcomer proposes)
cold and saturated. Each is a 12-unit tanh MLP (scikit-learn, L-BFGS): input ``sketch``
float32 [N, 4], output ``palette`` float32 [N, 3]. ``python build_model.py`` rewrites
them; a test rebuilds them byte for byte.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def warm_soft(s: np.ndarray) -> np.ndarray:
    brightness, warmth, contrast, saturation = s.T
    return np.column_stack([
        _sigmoid(3 * (warmth - 0.3) + brightness - 0.5),
        0.2 + 0.6 * brightness * (1 - contrast / 2),
        _sigmoid(2 * (0.4 - warmth) + 0.5 * saturation - 0.5),
    ])  # fmt: skip


def cold_saturated(s: np.ndarray) -> np.ndarray:
    brightness, warmth, contrast, saturation = s.T
    return np.column_stack([
        0.1 + 0.3 * warmth * saturation,
        _sigmoid(2 * (brightness - 0.5) + contrast - 0.5),
        _sigmoid(4 * (saturation - 0.2) + 1 - warmth),
    ])  # fmt: skip


def _fit(style: Callable[[np.ndarray], np.ndarray], seed: int) -> bytes:
    from sklearn.neural_network import MLPRegressor

    sketches = np.random.default_rng(seed).uniform(0, 1, (1500, 4))
    with single_threaded():
        model = MLPRegressor(hidden_layer_sizes=(12,), activation="tanh", solver="lbfgs",
                             max_iter=2000, random_state=0).fit(sketches, style(sketches))  # fmt: skip
    return to_onnx(model, "style", 4, input_name="sketch",
                   rename={"variable": "palette"})  # fmt: skip


def build() -> dict[str, bytes]:
    return {"style.onnx": _fit(warm_soft, 7), "style_fork.onnx": _fit(cold_saturated, 8)}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
