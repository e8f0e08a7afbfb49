"""Build the two models of example 02, chained in one transaction.

- ``temperature.onnx``: tomorrow's temperature (°C) from today's ``[hour_sin, hour_cos,
  humidity, pressure_delta]`` — input ``x`` float32 [N, 4], output ``temperature`` [N, 1].
- ``demand.onnx``: electricity demand (MW) from a temperature — input ``temperature``
  float32 [N, 1] (the first model's output tensor, name and shape included), output
  ``demand`` [N, 1]. Demand is U-shaped: heating below 18 °C, cooling above.

Both are 12-unit tanh MLPs learned (scikit-learn, L-BFGS) from synthetic data with fixed
seeds. ``python build_model.py`` rewrites them; a test rebuilds them byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def temperature(x: np.ndarray) -> np.ndarray:
    """The synthetic weather: a daily cycle, cooler when humid, warmer as pressure rises."""
    return 15 + 6 * x[:, 0] - 3 * x[:, 1] - 4 * x[:, 2] + 2.5 * x[:, 3]


def demand(t: np.ndarray) -> np.ndarray:
    """The synthetic grid: 400 MW base, 12 MW per degree of heating, 18 of cooling."""
    return 400 + 12 * np.maximum(18 - t, 0) + 18 * np.maximum(t - 18, 0)


def build() -> dict[str, bytes]:
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(2)
    hour = rng.uniform(0, 2 * np.pi, 1500)
    x = np.column_stack([np.sin(hour), np.cos(hour), rng.uniform(0, 1, 1500),
                         rng.normal(0, 1, 1500)])  # fmt: skip
    t = rng.uniform(-10, 40, 1500).reshape(-1, 1)

    def mlp() -> MLPRegressor:
        return MLPRegressor(
            hidden_layer_sizes=(12,), activation="tanh", solver="lbfgs", max_iter=2000,
            random_state=0,
        )  # fmt: skip

    with single_threaded():
        first = mlp().fit(x, temperature(x))
        second = mlp().fit(t / 10, demand(t.ravel()) / 100)  # scaled while training
    # Undo the training scale inside the model: t/10 in, demand/100 out.
    second.coefs_[0] = second.coefs_[0] / 10
    second.coefs_[-1] = second.coefs_[-1] * 100
    second.intercepts_[-1] = second.intercepts_[-1] * 100
    return {
        "temperature.onnx": to_onnx(first, "temperature", 4, rename={"variable": "temperature"}),
        "demand.onnx": to_onnx(
            second, "demand", 1, input_name="temperature", rename={"variable": "demand"}
        ),
    }


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
