"""Build the two versions of Chorus's music model (example 09).

The model scores how much energy a track gets when it is pressed, from ``[tempo (100 bpm),
loudness 0..1, valence 0..1, danceability 0..1]`` to ``energy`` 0..1. Two mixers trained
their own version on synthetic tracks: ``mix_a.onnx`` (the artist's: tempo and loudness
drive it) and ``mix_b.onnx`` (a fan's remix: danceability and mood drive it). Each is an
8-unit tanh MLP (scikit-learn, L-BFGS): input ``track`` float32 [N, 4], output ``energy``
float32 [N, 1]. ``python build_model.py`` rewrites them; a test rebuilds them byte for
byte.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # examples/_models.py: reproducible ONNX export
from _models import single_threaded, to_onnx, write


def artist_mix(t: np.ndarray) -> np.ndarray:
    tempo, loudness, valence, _ = t.T
    return 1 / (1 + np.exp(-(3 * (tempo - 1.2) + 2 * (loudness - 0.5) + 0.3 * valence)))


def fan_remix(t: np.ndarray) -> np.ndarray:
    tempo, _, valence, dance = t.T
    return 1 / (1 + np.exp(-(4 * (dance - 0.5) + 2 * (valence - 0.5) + 0.5 * (tempo - 1.2))))


def _fit(mix: Callable[[np.ndarray], np.ndarray], seed: int) -> bytes:
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(seed)
    tracks = np.column_stack([rng.uniform(0.6, 1.8, 1500), rng.uniform(0, 1, (1500, 3))])
    with single_threaded():
        model = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs",
                             max_iter=2000, random_state=0).fit(tracks, mix(tracks))  # fmt: skip
    return to_onnx(model, "energy", 4, input_name="track", rename={"variable": "energy"})


def build() -> dict[str, bytes]:
    return {"mix_a.onnx": _fit(artist_mix, 91), "mix_b.onnx": _fit(fan_remix, 92)}


if __name__ == "__main__":
    for path in write(HERE / "models", build()):
        print(path)
