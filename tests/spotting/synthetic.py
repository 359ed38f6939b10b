"""Synthetic feature sequences with known intervals, for testing that SpottingNet learns (not real faces)."""

from __future__ import annotations

import numpy as np

from tools.spotting.fedn.train import TrainingSequence


def synthetic_sequence(rng: np.random.Generator, length: int = 160, features: int = 6) -> TrainingSequence:
    """Noise (std 0.3) with 1-3 trapezoid bumps of amplitude 1.5-2.5 on a random half of the features: micro
    bumps last 4-12 frames (kind 0), macro 20-60 (kind 1); only the length tells them apart."""
    x = rng.normal(0.0, 0.3, (length, features)).astype(np.float32)
    intervals = []
    cursor = int(rng.integers(5, 20))
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 2))
        span = int(rng.integers(4, 13)) if kind == 0 else int(rng.integers(20, 61))
        if cursor + span >= length - 5:
            break
        ramp = max(1.0, span / 3)
        t = np.arange(span)
        shape = np.minimum(1.0, np.minimum((t + 1) / ramp, (span - t) / ramp))
        dims = rng.choice(features, size=features // 2, replace=False)
        x[cursor : cursor + span, dims] += (rng.uniform(1.5, 2.5) * shape)[:, None]
        intervals.append((cursor, cursor + span - 1, kind))
        cursor += span + int(rng.integers(10, 30))
    return TrainingSequence(x, tuple(intervals))
