"""Build ``vitals_anomaly.onnx``: is a set of vital signs anomalous?

Synthetic readings ``[heart rate bpm, SpO2 %, temperature °C, HRV ms]``: healthy adults at
rest, and anomalies where one sign is off (tachycardia, bradycardia, hypoxaemia, fever,
collapsed heart-rate variability). A standard scaler and an 8-unit MLP classifier
(scikit-learn, L-BFGS), exported with skl2onnx without ZipMap: input ``vitals`` float32
[N, 4], outputs ``label`` int64 [N] and ``probabilities`` float32 [N, 2] (column 1:
anomaly). ``python build_model.py`` rewrites it; a test rebuilds it byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def readings(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` healthy readings and ``n // 2`` anomalous ones, with labels 0 / 1."""
    healthy = np.column_stack([
        rng.normal(70, 10, n), rng.normal(97.5, 1.0, n), rng.normal(36.8, 0.3, n),
        rng.normal(50, 15, n),
    ])  # fmt: skip
    sick = healthy[: n // 2].copy()
    kind = rng.integers(0, 5, n // 2)
    for k, column, low, high in ((0, 0, 125, 180), (1, 0, 30, 42), (2, 1, 80, 90),
                                 (3, 2, 38.4, 40.5), (4, 3, 2, 12)):  # fmt: skip
        sick[kind == k, column] = rng.uniform(low, high, int((kind == k).sum()))
    return np.vstack([healthy, sick]), np.r_[np.zeros(n), np.ones(n // 2)].astype(np.int64)


def build() -> dict[str, bytes]:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = readings(np.random.default_rng(6), 3000)
    with single_threaded():
        model = make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=1000, random_state=0),
        ).fit(x, y)
    onnx_bytes = to_onnx(model, "vitals_anomaly", 4, input_name="vitals", classifier=True)
    return {"vitals_anomaly.onnx": onnx_bytes}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
