"""Metrics over decisions (not scores): presentation-attack rates from live/attack verdicts, cloaking success.

The attack model's score-based metrics (threshold on validation, AUC, EER) live in ``tools.attack.metrics``; an
evaluation of the agent sees only its verdicts, so here APCER is the share of attacks called live, BPCER the share
of live faces called attacks, ACER their mean (ISO/IEC 30107-3 at the agent's operating point).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LIVE = "live"


@dataclass(frozen=True)
class PadRates:
    apcer: float
    bpcer: float
    acer: float
    attacks: int
    live: int


def pad_rates(truth: Sequence[str], verdicts: Sequence[str | None]) -> PadRates:
    """Rates from true kinds ("live" or any attack kind) and the verdicts ("live", "attack"; None: no verdict,
    which counts as an error on either side)."""
    if len(truth) != len(verdicts):
        raise ValueError(f"{len(truth)} truths for {len(verdicts)} verdicts")
    attacks = [v for t, v in zip(truth, verdicts, strict=True) if t != LIVE]
    live = [v for t, v in zip(truth, verdicts, strict=True) if t == LIVE]
    apcer = sum(v != "attack" for v in attacks) / len(attacks) if attacks else 0.0
    bpcer = sum(v != LIVE for v in live) / len(live) if live else 0.0
    return PadRates(apcer, bpcer, (apcer + bpcer) / 2, len(attacks), len(live))


def cloaking_success(protected: Sequence[bool]) -> float:
    """Share of cloaked faces the recognizer no longer matches to their original (0.0 for no face)."""
    return sum(protected) / len(protected) if protected else 0.0
