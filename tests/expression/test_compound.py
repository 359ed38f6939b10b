"""Compound transformation: PPA and PFSA on crafted inputs, checked against numbers computed by hand.

Compound order (labels.COMPOUND_EXPRESSIONS): Fearfully Surprised (F+Su), Happily Surprised (H+Su), Sadly
Surprised (S+Su), Disgustedly Surprised (D+Su), Angrily Surprised (A+Su), Sadly Fearful (F+S), Sadly Angry (A+S).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.expression.compound import (
    COMPOUND_LABELS,
    InvalidEmbeddingError,
    PFSAConfig,
    PPAConfig,
    pfsa,
    ppa,
)
from tools.expression.labels import COMPOUND_EXPRESSIONS
from tools.expression.modality import InvalidProbabilitiesError

#                 Neutral Anger Disgust Fear Happiness Sadness Surprise
BASIC = np.array([0.10, 0.05, 0.05, 0.20, 0.30, 0.15, 0.15])


def test_compound_labels_follow_the_shared_label_order() -> None:
    assert tuple(COMPOUND_EXPRESSIONS) == COMPOUND_LABELS
    assert len(COMPOUND_LABELS) == 7


def test_ppa_plain_sum_of_the_two_probabilities() -> None:
    result = ppa(BASIC)
    # F+Su, H+Su, S+Su, D+Su, A+Su, F+S, A+S
    expected_scores = [0.35, 0.45, 0.30, 0.20, 0.20, 0.35, 0.20]
    assert result.scores == pytest.approx(expected_scores, abs=1e-12)
    assert result.probabilities == pytest.approx([s / 2.05 for s in expected_scores], abs=1e-12)
    assert result.top_label == "Happily Surprised"
    assert not result.degenerate


def test_ppa_with_published_difficulty_weights() -> None:
    result = ppa(BASIC, PPAConfig(difficulty_weights=True))
    # w_i = d_i / (d_i + d_j) with d = Anger 5, Disgust 6, Fear 5, Happiness 6, Sadness 4, Surprise 2
    expected_scores = [
        (5 * 0.20 + 2 * 0.15) / 7,  # Fear + Surprise = 1.3 / 7
        (6 * 0.30 + 2 * 0.15) / 8,  # Happiness + Surprise = 0.2625
        (4 * 0.15 + 2 * 0.15) / 6,  # Sadness + Surprise = 0.15
        (6 * 0.05 + 2 * 0.15) / 8,  # Disgust + Surprise = 0.075
        (5 * 0.05 + 2 * 0.15) / 7,  # Anger + Surprise = 0.55 / 7
        (5 * 0.20 + 4 * 0.15) / 9,  # Fear + Sadness = 1.6 / 9
        (5 * 0.05 + 4 * 0.15) / 9,  # Anger + Sadness = 0.85 / 9
    ]
    assert result.scores == pytest.approx(expected_scores, abs=1e-12)
    assert result.scores[1] == pytest.approx(0.2625, abs=1e-12)
    assert result.probabilities == pytest.approx(np.array(expected_scores) / sum(expected_scores), abs=1e-12)
    assert result.top_label == "Happily Surprised"


def test_ppa_mask_zeroes_probabilities_not_above_one_seventh() -> None:
    result = ppa(BASIC, PPAConfig(mask=True))
    # Anger 0.05 and Disgust 0.05 are masked; Fear, Happiness, Sadness (0.15 > 1/7) and Surprise stay.
    expected_scores = [0.35, 0.45, 0.30, 0.15, 0.15, 0.35, 0.15]
    assert result.scores == pytest.approx(expected_scores, abs=1e-12)
    assert result.probabilities == pytest.approx([s / 1.9 for s in expected_scores], abs=1e-12)


def test_ppa_mask_and_weights_together() -> None:
    result = ppa(BASIC, PPAConfig(difficulty_weights=True, mask=True))
    expected_scores = [1.3 / 7, 2.1 / 8, 0.9 / 6, 0.3 / 8, 0.3 / 7, 1.6 / 9, 0.6 / 9]
    assert result.scores == pytest.approx(expected_scores, abs=1e-12)
    assert result.probabilities == pytest.approx(np.array(expected_scores) / sum(expected_scores), abs=1e-12)


def test_ppa_mask_boundary_masks_exactly_one_seventh_like_the_reference_code() -> None:
    uniform = np.full(7, 1 / 7)
    unmasked = ppa(uniform)
    assert unmasked.scores == pytest.approx([2 / 7] * 7, abs=1e-12)
    assert not unmasked.degenerate
    masked = ppa(uniform, PPAConfig(mask=True))
    assert masked.scores == pytest.approx([0.0] * 7, abs=0)
    assert masked.degenerate
    assert masked.probabilities == pytest.approx([1 / 7] * 7, abs=1e-15)


def test_ppa_neutral_face_with_mask_has_no_compound_evidence() -> None:
    neutral = np.array([0.94, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    assert ppa(neutral, PPAConfig(mask=True)).degenerate
    # Without the mask, Neutral is simply ignored and the pairs keep their (tiny, equal) sums.
    assert ppa(neutral).probabilities == pytest.approx([1 / 7] * 7, abs=1e-12)


def test_ppa_softmax_normalisation_with_temperature() -> None:
    result = ppa(BASIC, PPAConfig(normalisation="softmax", temperature=0.1))
    scores = [0.35, 0.45, 0.30, 0.20, 0.20, 0.35, 0.20]
    exps = [math.exp(s / 0.1) for s in scores]
    assert result.probabilities == pytest.approx([e / sum(exps) for e in exps], abs=1e-12)


def test_ppa_rejects_vectors_that_are_not_probabilities() -> None:
    with pytest.raises(InvalidProbabilitiesError, match="sum to 1"):
        ppa([0.5, 0.5, 0.5, 0, 0, 0, 0])
    with pytest.raises(InvalidProbabilitiesError, match=r"shape \(7,\)"):
        ppa([0.5, 0.5])
    with pytest.raises(InvalidProbabilitiesError, match="negative"):
        ppa([1.2, -0.2, 0, 0, 0, 0, 0])


# PFSA: segment e = (2, 0, 0); label vectors chosen so each cosine with e is a simple number.
SEGMENT = np.array([2.0, 0.0, 0.0])
LABELS = np.array(
    [
        [0.0, 1.0, 0.0],  # Neutral   cos 0
        [4.0, 0.0, 3.0],  # Anger     cos 0.8
        [0.0, 3.0, 4.0],  # Disgust   cos 0
        [2.0, 0.0, 0.0],  # Fear      cos 1
        [3.0, 4.0, 0.0],  # Happiness cos 0.6
        [-4.0, 3.0, 0.0],  # Sadness  cos -0.8
        [0.0, 0.0, 5.0],  # Surprise  cos 0
    ]
)
# Mean of the two cosines: F+Su, H+Su, S+Su, D+Su, A+Su, F+S, A+S
PFSA_MEAN = [0.5, 0.3, -0.4, 0.0, 0.4, 0.1, 0.0]


def test_pfsa_mean_of_cosines_with_softmax() -> None:
    result = pfsa(SEGMENT, LABELS, PFSAConfig(temperature=0.1))
    assert result.scores == pytest.approx(PFSA_MEAN, abs=1e-12)
    exps = [math.exp(s / 0.1) for s in PFSA_MEAN]  # exp(5), exp(3), exp(-4), 1, exp(4), exp(1), 1
    assert result.probabilities == pytest.approx([e / sum(exps) for e in exps], abs=1e-12)
    assert result.top_label == "Fearfully Surprised"
    assert result.settings["cosines"] == {
        "Neutral": 0.0,
        "Anger": 0.8,
        "Disgust": 0.0,
        "Fear": 1.0,
        "Happiness": 0.6,
        "Sadness": -0.8,
        "Surprise": 0.0,
    }


def test_pfsa_sum_normalisation_clips_negative_similarities() -> None:
    result = pfsa(SEGMENT, LABELS, PFSAConfig(normalisation="sum"))
    clipped = [0.5, 0.3, 0.0, 0.0, 0.4, 0.1, 0.0]
    assert result.probabilities == pytest.approx([c / 1.3 for c in clipped], abs=1e-12)


def test_pfsa_with_difficulty_weights() -> None:
    result = pfsa(SEGMENT, LABELS, PFSAConfig(pair_aggregation="difficulty", normalisation="sum"))
    expected = [5 / 7, 0.45, -0.8 * 4 / 6, 0.0, 0.8 * 5 / 7, (5 - 3.2) / 9, (4 - 3.2) / 9]
    assert result.scores == pytest.approx(expected, abs=1e-12)
    positive = np.clip(expected, 0, None)
    assert result.probabilities == pytest.approx(positive / positive.sum(), abs=1e-12)


def test_pfsa_accepts_a_label_mapping_without_neutral() -> None:
    mapping = {
        label: LABELS[i]
        for i, label in enumerate(("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise"))
        if label != "Neutral"
    }
    from_mapping = pfsa(SEGMENT, mapping, PFSAConfig(temperature=0.1))
    assert from_mapping.probabilities == pytest.approx(pfsa(SEGMENT, LABELS, PFSAConfig(temperature=0.1)).probabilities)
    assert "Neutral" not in from_mapping.settings["cosines"]


def test_pfsa_rejects_mismatched_or_zero_embeddings() -> None:
    with pytest.raises(InvalidEmbeddingError, match="length 3"):
        pfsa(np.ones(4), LABELS)
    with pytest.raises(InvalidEmbeddingError, match="non-zero"):
        pfsa(np.zeros(3), LABELS)
    with pytest.raises(InvalidEmbeddingError, match=r"lack \['Surprise'\]"):
        pfsa(
            SEGMENT,
            {"Anger": [1, 0, 0], "Disgust": [1, 0, 0], "Fear": [1, 0, 0], "Happiness": [1, 0, 0], "Sadness": [1, 0, 0]},
        )


def test_compound_result_is_json_serialisable() -> None:
    import json

    data = json.loads(json.dumps(ppa(BASIC, PPAConfig(difficulty_weights=True, mask=True)).to_dict()))
    assert data["method"] == "ppa"
    assert data["settings"]["mask"] is True
    assert data["settings"]["difficulty"]["Surprise"] == 2.0
    assert sum(data["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
