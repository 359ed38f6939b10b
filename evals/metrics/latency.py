"""Latency percentiles (linear interpolation between order statistics, numpy's default)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentiles(seconds: Sequence[float], points: Sequence[float] = (50, 90, 95)) -> dict[str, float]:
    """{"p50": ..., "p90": ..., "p95": ...} of ``seconds``; empty input gives NaN for each."""
    if not seconds:
        return {f"p{point:g}": float("nan") for point in points}
    values = np.percentile(np.asarray(seconds, dtype=np.float64), list(points))
    return {f"p{point:g}": float(value) for point, value in zip(points, values, strict=True)}
