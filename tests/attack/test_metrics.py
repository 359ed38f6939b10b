"""APCER / BPCER / ACER / AUC / EER on hand-made score lists whose values are known by counting."""

from __future__ import annotations

import pytest

from tools.attack.metrics import attack_metrics, auc, eer, validation_threshold

LABELS = ["live", "live", "live", "live", "print", "print", "replay", "replay"]
SCORES = [0.1, 0.2, 0.3, 0.7, 0.8, 0.4, 0.9, 0.95]


def test_rates_at_a_threshold_count_errors_per_class() -> None:
    m = attack_metrics(SCORES, LABELS, threshold=0.5)
    assert m.bpcer == pytest.approx(1 / 4)  # the live 0.7 is rejected
    assert m.apcer_by_type == {"print": pytest.approx(1 / 2), "replay": 0.0}  # the print 0.4 passes as live
    assert m.apcer == pytest.approx(1 / 2)  # the worst type, as ISO/IEC 30107-3 reports it
    assert m.acer == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert m.live_count == 4 and m.attack_counts == {"print": 2, "replay": 2}


def test_auc_counts_ordered_pairs() -> None:
    # 16 live/attack pairs; the attack scores lower in one of them (the print 0.4 against the live 0.7).
    assert auc(SCORES, LABELS) == pytest.approx(15 / 16)
    assert auc([0.1, 0.9], ["live", "print"]) == 1.0
    assert auc([0.5, 0.5], ["live", "print"]) == 0.5


def test_eer_where_both_error_rates_meet() -> None:
    rate, threshold = eer(SCORES, LABELS)
    assert rate == pytest.approx(0.25)
    assert threshold == pytest.approx(0.7)  # at 0.7: 1 of 4 live rejected and 1 of 4 attacks (0.4) accepted
    assert validation_threshold(SCORES, LABELS) == threshold


def test_perfect_separation() -> None:
    m = attack_metrics([0.1, 0.2, 0.8, 0.9], ["live", "live", "mask", "digital"], threshold=0.5)
    assert (m.apcer, m.bpcer, m.acer, m.auc, m.eer) == (0.0, 0.0, 0.0, 1.0, 0.0)


def test_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both live and attack"):
        auc([0.1, 0.2], ["live", "live"])
