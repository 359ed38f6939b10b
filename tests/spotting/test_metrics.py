"""The MEGC spotting metrics on hand-made cases whose counts and scores are worked out by hand."""

from __future__ import annotations

import pytest

from evals.metrics.spotting import LabelledInterval as I
from evals.metrics.spotting import f1_score, frame_iou, match_intervals, recognition_f1, score_spotting


def test_iou_counts_inclusive_frames() -> None:
    assert frame_iou(I(3, 5), I(5, 7)) == pytest.approx(1 / 5)
    assert frame_iou(I(0, 9), I(0, 9)) == 1.0
    assert frame_iou(I(0, 9), I(10, 12)) == 0.0
    assert frame_iou(I(0, 9), I(5, 14)) == pytest.approx(5 / 15)
    assert frame_iou(I(4, 4), I(4, 4)) == 1.0  # a one-frame interval is one frame long, not zero


def test_interval_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        I(5, 4)


def test_iou_of_exactly_half_is_a_true_positive() -> None:
    # [0, 9] vs [0, 4]: 5 shared frames of 10.
    assert match_intervals([I(0, 9)], [I(0, 4)]) == [(0, 0, 0.5)]
    assert match_intervals([I(0, 9)], [I(0, 3)]) == []  # 4 / 10


def test_one_prediction_over_two_truths_matches_one_of_them() -> None:
    # The prediction [0, 9] covers both halves exactly: IoU 0.5 with each. It may match one; the other is missed.
    truths = [I(0, 4, "Happiness"), I(5, 9, "Anger")]
    score = score_spotting({"v": [I(0, 9, "Happiness")]}, {"v": truths})
    assert (score.tp, score.fp, score.fn) == (1, 0, 1)
    assert score.precision == 1.0 and score.recall == 0.5
    assert score.f1 == pytest.approx(2 / 3)
    assert match_intervals([I(0, 9)], truths) == [(0, 0, 0.5)]  # ties go to the earlier ground truth


def test_two_predictions_over_one_truth_count_one_true_and_one_false_positive() -> None:
    # Truth [10, 29]; predictions [10, 25] (IoU 16/20 = 0.8) and [12, 29] (IoU 18/20 = 0.9): the better one wins.
    preds = [I(10, 25, "Sadness"), I(12, 29, "Sadness")]
    assert match_intervals(preds, [I(10, 29)]) == [(1, 0, 0.9)]
    score = score_spotting({"v": preds}, {"v": [I(10, 29, "Sadness")]})
    assert (score.tp, score.fp, score.fn) == (1, 1, 0)
    assert score.f1 == pytest.approx(2 / 3)


def test_counts_are_pooled_over_videos_before_dividing() -> None:
    truths = {"a": [I(0, 9, "Happiness"), I(20, 29, "Anger")], "b": [I(0, 4, "Happiness")], "c": []}
    preds = {
        "a": [I(1, 9, "Happiness"), I(40, 45, "Anger")],  # one hit (IoU 0.9), one false positive
        "b": [I(0, 4, "Anger")],  # a hit with the wrong label
        "c": [I(3, 8, "Sadness")],  # a false positive in a video without expressions
    }
    score = score_spotting(preds, truths)
    assert (score.tp, score.fp, score.fn) == (2, 2, 1)
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(4 / 7)
    # Recognition on the two hits: (Happiness, Happiness) and (Happiness, Anger).
    # Happiness: tp 1, fn 1 -> F1 2/3; Anger: fp 1 -> F1 0; macro mean 1/3.
    assert score.recognition_f1 == pytest.approx(1 / 3)
    assert score.per_class_f1 == {"Anger": 0.0, "Happiness": pytest.approx(2 / 3)}
    assert score.strs == pytest.approx(4 / 7 * 1 / 3)


def test_kinds_are_scored_separately() -> None:
    truths = {"v": [I(0, 5, "Happiness", "micro"), I(30, 89, "Anger", "macro")]}
    preds = {"v": [I(0, 5, "Happiness", "micro"), I(31, 89, "Anger", "macro"), I(100, 104, "Anger", "micro")]}
    micro = score_spotting(preds, truths, kind="micro")
    macro = score_spotting(preds, truths, kind="macro")
    assert (micro.tp, micro.fp, micro.fn) == (1, 1, 0)
    assert (macro.tp, macro.fp, macro.fn) == (1, 0, 0)
    assert macro.f1 == 1.0 and macro.strs == 1.0


def test_nothing_to_count_scores_zero_not_an_error() -> None:
    score = score_spotting({}, {})
    assert (score.tp, score.fp, score.fn, score.f1, score.strs) == (0, 0, 0, 0.0, 0.0)
    assert f1_score(0, 0, 0) == 0.0


def test_recognition_counts_a_missing_label_as_wrong() -> None:
    value, per_class = recognition_f1([("Happiness", None), ("Happiness", "Happiness")])
    assert per_class == {"Happiness": pytest.approx(2 / 3)}
    assert value == pytest.approx(2 / 3)
