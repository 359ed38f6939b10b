"""inspect metrics that pool over samples (macro-F1, spotting F1/STRS, APCER/BPCER/ACER, latency percentiles).

Each reads what its scorer put in ``Score.metadata`` and calls the plain metric code in ``evals.metrics``.
"""

from __future__ import annotations

from inspect_ai.scorer import Metric, SampleScore, metric

from evals.metrics.classification import macro_f1
from evals.metrics.decisions import pad_rates
from evals.metrics.latency import percentiles
from evals.metrics.spotting import LabelledInterval, score_spotting
from tools.expression.labels import BASIC_EMOTIONS, COMPOUND_EXPRESSIONS


def _pairs(scores: list[SampleScore]) -> list[tuple[str | None, str | None]]:
    return [(t, p) for s in scores for t, p in (s.score.metadata or {}).get("pairs", [])]


@metric
def basic_macro_f1() -> Metric:
    """Macro-F1 over the 7 basic emotions that occur in the truth or the predictions."""

    def compute(scores: list[SampleScore]) -> float:
        pairs = _pairs(scores)
        seen = {x for pair in pairs for x in pair if x is not None}
        return macro_f1(pairs, [c for c in BASIC_EMOTIONS if c in seen])

    return compute


@metric
def compound_macro_f1() -> Metric:
    """Macro-F1 over the 7 C-EXPR-DB compound classes that occur in the truth or the predictions."""

    def compute(scores: list[SampleScore]) -> float:
        pairs = _pairs(scores)
        seen = {x for pair in pairs for x in pair if x is not None}
        return macro_f1(pairs, [c for c in COMPOUND_EXPRESSIONS if c in seen])

    return compute


def _pad(scores: list[SampleScore]) -> tuple[list[str], list[str | None]]:
    pairs = _pairs(scores)
    return [str(t) for t, _ in pairs], [p for _, p in pairs]


@metric
def apcer() -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        return pad_rates(*_pad(scores)).apcer

    return compute


@metric
def bpcer() -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        return pad_rates(*_pad(scores)).bpcer

    return compute


@metric
def acer() -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        return pad_rates(*_pad(scores)).acer

    return compute


def _intervals(scores: list[SampleScore], side: str) -> dict[str, list[LabelledInterval]]:
    found: dict[str, list[LabelledInterval]] = {}
    for index, s in enumerate(scores):
        meta = s.score.metadata or {}
        found[str(s.sample_id or index)] = [LabelledInterval(*item) for item in meta.get(side, [])]
    return found


@metric
def spotting_f1() -> Metric:
    """MEGC spotting F1 pooled over samples (IoU >= 0.5 on 10 ms ticks)."""

    def compute(scores: list[SampleScore]) -> float:
        return score_spotting(_intervals(scores, "predicted"), _intervals(scores, "truth")).f1

    return compute


@metric
def strs() -> Metric:
    """MEGC STRS: spotting F1 x recognition F1 of the matched intervals."""

    def compute(scores: list[SampleScore]) -> float:
        return score_spotting(_intervals(scores, "predicted"), _intervals(scores, "truth")).strs

    return compute


def _latency(point: float) -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        seconds = [float(x) for s in scores for x in (s.score.metadata or {}).get("seconds", [])]
        return percentiles(seconds, (point,))[f"p{point:g}"] if seconds else 0.0

    return compute


@metric
def p50() -> Metric:
    return _latency(50)


@metric
def p90() -> Metric:
    return _latency(90)


@metric
def p95() -> Metric:
    return _latency(95)
