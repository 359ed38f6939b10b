"""Metric code on hand-made cases with exact expected values (worked out by hand in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.metrics.classification import accuracy, compound_class, emotion_class, hit_rate, macro_f1, per_class_f1
from evals.metrics.decisions import cloaking_success, pad_rates
from evals.metrics.emer import clue_coverage, clue_recall, emotion_set, label_overlap
from evals.metrics.latency import percentiles
from evals.metrics.tool_calls import tool_precision_recall

PAIRS = [("Happiness", "Happiness"), ("Happiness", "Sadness"), ("Sadness", "Sadness"), ("Anger", None)]


def test_accuracy_and_macro_f1() -> None:
    assert accuracy(PAIRS) == 0.5
    # Happiness: tp 1, fp 0, fn 1 -> 2/3; Sadness: tp 1, fp 1, fn 0 -> 2/3; Anger: tp 0, fn 1 -> 0.
    assert per_class_f1(PAIRS) == pytest.approx({"Anger": 0.0, "Happiness": 2 / 3, "Sadness": 2 / 3})
    assert macro_f1(PAIRS) == pytest.approx(4 / 9)
    # Over a fixed class list, an unseen class scores 0 and pulls the mean down.
    assert macro_f1(PAIRS, ["Happiness", "Sadness", "Anger", "Fear"]) == pytest.approx(1 / 3)
    assert accuracy([]) == 0.0 and macro_f1([]) == 0.0


def test_label_normalisation() -> None:
    assert emotion_class("#1: happy") == "Happiness"
    assert emotion_class("mostly sadness, some anger") == "Sadness"
    assert emotion_class("2 people") is None
    assert compound_class("She looks happily  surprised") == "Happily Surprised"
    assert compound_class("happiness") is None


def test_hit_rate() -> None:
    assert hit_rate([["Ada", "Bob"], ["Cy"]], [["ada"], ["Cy", "Dee"]]) == pytest.approx(2 / 3)
    assert hit_rate([[]], [["x"]]) == 1.0


def test_tool_precision_recall() -> None:
    assert tool_precision_recall(["find_faces", "read_emotions"], ["read_emotions"]) == (0.5, 1.0)
    assert tool_precision_recall(["find_faces"], ["read_emotions", "transcribe_speech"]) == (0.0, 0.0)
    assert tool_precision_recall([], []) == (1.0, 1.0)
    assert tool_precision_recall(["find_faces"], []) == (0.0, 1.0)
    assert tool_precision_recall([], ["find_faces"]) == (0.0, 0.0)


def test_latency_percentiles() -> None:
    # numpy's linear interpolation on [1, 2, 3, 4, 10]: p50 = 3, p90 = 4 + 0.6 * 6 = 7.6, p95 = 4 + 0.8 * 6 = 8.8.
    assert percentiles([4, 1, 10, 3, 2]) == pytest.approx({"p50": 3.0, "p90": 7.6, "p95": 8.8})
    assert all(math.isnan(v) for v in percentiles([]).values())


def test_pad_rates_and_cloaking() -> None:
    truth = ["live", "live", "print", "replay", "replay"]
    verdicts = ["live", "attack", "attack", "live", None]
    rates = pad_rates(truth, verdicts)
    # APCER: 2 of 3 attacks not called attacks; BPCER: 1 of 2 live faces rejected; ACER the mean.
    assert (rates.apcer, rates.bpcer) == pytest.approx((2 / 3, 0.5))
    assert rates.acer == pytest.approx(7 / 12)
    assert (rates.attacks, rates.live) == (3, 2)
    with pytest.raises(ValueError):
        pad_rates(["live"], [])
    assert cloaking_success([True, False, True, True]) == 0.75 and cloaking_success([]) == 0.0


def test_emer_overlaps() -> None:
    assert emotion_set("She is happy, not sad; joyful even.") == {"happiness", "sadness"}
    overlap = label_overlap({"happiness", "surprise"}, {"happiness"})
    assert (overlap.precision, overlap.recall, overlap.f1) == pytest.approx((0.5, 1.0, 2 / 3))
    assert label_overlap(set(), set()).f1 == 1.0
    assert clue_recall([0, 2, 2, 7], 4) == 0.5  # indices 0 and 2 of 4; the repeat and the bad index are ignored
    clues = np.eye(3, dtype=np.float32)  # three orthogonal unit clues
    sentences = np.array([[1, 0, 0], [0, 0.6, 0.8]], dtype=np.float32)  # cosines: clue 0 1.0, clue 1 0.6, clue 2 0.8
    assert clue_coverage(clues, sentences, threshold=0.7) == pytest.approx(2 / 3)
    assert clue_coverage(clues, sentences[:0]) == 0.0 and clue_coverage(clues[:0], sentences) == 1.0
