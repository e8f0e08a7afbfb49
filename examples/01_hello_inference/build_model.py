"""Build ``hello_regressor.onnx``: a small MLP learned from synthetic data.

The target is a smooth function of four numbers (``y = sin(x0) + x1·x2 − 0.5·x3²``),
sampled with a fixed seed; a 4→12→1 tanh MLP (scikit-learn, L-BFGS) learns it and skl2onnx
exports it: input ``x`` float32 [N, 4], output ``y`` float32 [N, 1], about 1 KB.
``python build_model.py`` rewrites the file; a test rebuilds it byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write

MODEL = "hello_regressor.onnx"


def build() -> dict[str, bytes]:
    """``{file name: ONNX bytes}``, the same bytes on every run."""
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(1)
    x = rng.uniform(-3.0, 3.0, size=(1200, 4))
    y = np.sin(x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3] ** 2
    with single_threaded():
        mlp = MLPRegressor(
            hidden_layer_sizes=(12,),
            activation="tanh",
            solver="lbfgs",
            max_iter=1000,
            random_state=0,
        )
        mlp.fit(x, y)
    return {MODEL: to_onnx(mlp, "hello_regressor", 4, rename={"variable": "y"})}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
