"""Presentation-attack metrics (ISO/IEC 30107-3 style): APCER, BPCER, ACER at a threshold, AUC and EER.

Scores are P(attack); a sample is called an attack when its score is at or above the threshold. The threshold is
chosen on validation data only (``validation_threshold``) and then applied unchanged to the test set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.attack.types import LIVE, AttackMetrics


def _split(scores: Sequence[float], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    s, kinds = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    if len(s) != len(kinds):
        raise ValueError(f"{len(s)} scores for {len(kinds)} labels")
    return s[kinds == LIVE], s[kinds != LIVE]


def auc(scores: Sequence[float], labels: Sequence[str]) -> float:
    """Probability that a random attack scores above a random live sample (ties count half); Mann-Whitney."""
    live, attack = _split(scores, labels)
    if len(live) == 0 or len(attack) == 0:
        raise ValueError("AUC needs both live and attack samples")
    greater = (attack[:, None] > live[None, :]).sum()
    ties = (attack[:, None] == live[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(live) * len(attack)))


def _rates(live: np.ndarray, attack: np.ndarray, threshold: float) -> tuple[float, float]:
    """(APCER over all attacks, BPCER) at ``threshold``."""
    return float(np.mean(attack < threshold)), float(np.mean(live >= threshold))


def eer(scores: Sequence[float], labels: Sequence[str]) -> tuple[float, float]:
    """(equal error rate, the threshold where it occurs): where attack acceptance meets live rejection."""
    live, attack = _split(scores, labels)
    candidates = np.unique(np.concatenate([live, attack, [np.inf]]))
    best_gap, best = np.inf, (1.0, 0.5)
    for threshold in candidates:
        apcer, bpcer = _rates(live, attack, float(threshold))
        gap = abs(apcer - bpcer)
        if gap < best_gap:
            best_gap, best = gap, ((apcer + bpcer) / 2, float(threshold))
    return best


def validation_threshold(scores: Sequence[float], labels: Sequence[str]) -> float:
    """The threshold to use on test data: the EER point of the validation scores."""
    return eer(scores, labels)[1]


def attack_metrics(scores: Sequence[float], labels: Sequence[str], threshold: float) -> AttackMetrics:
    """Every metric of one test set at ``threshold`` (from validation). APCER is the worst attack type's."""
    live, _ = _split(scores, labels)
    s, kinds = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    by_type = {str(kind): float(np.mean(s[kinds == kind] < threshold)) for kind in sorted(set(kinds.tolist()) - {LIVE})}
    bpcer = float(np.mean(live >= threshold))
    apcer = max(by_type.values()) if by_type else 0.0
    return AttackMetrics(
        threshold=threshold,
        apcer=apcer,
        bpcer=bpcer,
        acer=(apcer + bpcer) / 2,
        auc=auc(scores, labels),
        eer=eer(scores, labels)[0],
        apcer_by_type=by_type,
        live_count=len(live),
        attack_counts={kind: int(np.sum(kinds == kind)) for kind in by_type},
    )
