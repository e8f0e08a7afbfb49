"""Build ``volatility.onnx``: a volatility estimate from the last 8 price moves.

Synthetic price paths: for a volatility σ drawn log-uniformly between 0.01 % and 20 % per
swap, eight returns ~ N(0, σ); the model sees their absolute values (in percent) and learns
σ. A standard scaler and an 8-unit MLP (scikit-learn, L-BFGS) exported with skl2onnx:
input ``abs_returns`` float32 [N, 8], output ``volatility`` float32 [N, 1] (percent).
``python build_model.py`` rewrites it; a test rebuilds it byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write

WINDOW = 8  # returns per estimate; VolatilityFeePool.WINDOW


def build() -> dict[str, bytes]:
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(5)
    sigma = np.exp(rng.uniform(np.log(0.01), np.log(20.0), 2000))
    abs_returns = np.abs(rng.normal(0.0, 1.0, (2000, WINDOW)) * sigma[:, None])
    with single_threaded():
        model = make_pipeline(
            StandardScaler(),
            MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=1000, random_state=0),
        ).fit(abs_returns, sigma)
    onnx_bytes = to_onnx(
        model, "volatility", WINDOW, input_name="abs_returns",
        rename={"variable": "volatility"},
    )  # fmt: skip
    return {"volatility.onnx": onnx_bytes}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
