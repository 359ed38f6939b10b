"""Multi-Head Probability Fusion: masking and renormalisation with exact numbers, learning weights, saving them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tools.errors import ConfigError
from tools.expression.fusion import (
    NUM_MODALITIES,
    FusionWeights,
    MultiHeadProbabilityFusion,
    fuse_arrays,
    fusion_loss,
    stack_modalities,
)
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import (
    MODALITY_NAMES,
    InvalidProbabilitiesError,
    ModalityProbabilities,
    NoModalityError,
)

#                     Neutral Anger Disgust Fear Happiness Sadness Surprise
STATIC = np.array([0.1, 0.0, 0.0, 0.0, 0.7, 0.1, 0.1])
DYNAMIC = np.array([0.3, 0.1, 0.0, 0.0, 0.4, 0.1, 0.1])
AUDIO = np.array([0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5])


def weighted_fusion() -> MultiHeadProbabilityFusion:
    return MultiHeadProbabilityFusion(
        FusionWeights.from_modality_weights({"static_face": 0.5, "dynamic_face": 0.3, "audio": 0.2})
    )


def test_uniform_fusion_is_the_mean_of_present_modalities() -> None:
    fused = MultiHeadProbabilityFusion().fuse(
        [
            ModalityProbabilities("static_face", STATIC),
            ModalityProbabilities("dynamic_face", DYNAMIC),
            ModalityProbabilities.missing("audio"),
        ]
    )
    assert fused.probabilities == pytest.approx((STATIC + DYNAMIC) / 2, abs=1e-12)
    assert fused.present == ("static_face", "dynamic_face")
    assert fused.missing == ("clip", "scene_text", "audio", "transcript", "physiology")


def test_per_modality_weights_with_everything_present() -> None:
    fused = weighted_fusion().fuse({"static_face": STATIC, "dynamic_face": DYNAMIC, "audio": AUDIO})
    # 0.5 * static + 0.3 * dynamic + 0.2 * audio
    assert fused.probabilities == pytest.approx([0.14, 0.13, 0.0, 0.0, 0.47, 0.08, 0.18], abs=1e-12)
    assert fused.top_label == "Happiness"


def test_missing_modality_is_masked_and_weights_renormalised() -> None:
    fused = weighted_fusion().fuse({"static_face": STATIC, "dynamic_face": DYNAMIC, "audio": None})
    # audio's 0.2 is removed; 0.5 and 0.3 become 0.625 and 0.375
    assert fused.weights == pytest.approx(np.array([[0.625] * 7, [0.375] * 7]), abs=1e-12)
    assert fused.probabilities == pytest.approx([0.175, 0.0375, 0.0, 0.0, 0.5875, 0.1, 0.1], abs=1e-12)
    assert fused.missing == ("clip", "scene_text", "audio", "transcript", "physiology")


def test_per_class_heads_and_final_normalisation() -> None:
    class_weights = np.ones((NUM_MODALITIES, 7))
    class_weights[MODALITY_NAMES.index("static_face"), BASIC_EMOTIONS.index("Anger")] = 1 / 3
    weights = FusionWeights(np.ones(NUM_MODALITIES), class_weights)
    fused = MultiHeadProbabilityFusion(weights).fuse({"static_face": STATIC, "audio": AUDIO})
    # The Anger head trusts audio 0.75 and the face 0.25; every other head 0.5 / 0.5.
    assert fused.weights[:, BASIC_EMOTIONS.index("Anger")] == pytest.approx([0.25, 0.75], abs=1e-12)
    scores = np.array([0.05, 0.375, 0.0, 0.0, 0.35, 0.05, 0.30])  # sums to 1.125
    assert fused.probabilities == pytest.approx(scores / 1.125, abs=1e-12)
    # With audio missing the face is the only voice in every head, whatever its class weights.
    alone = MultiHeadProbabilityFusion(weights).fuse({"static_face": STATIC, "audio": None})
    assert alone.probabilities == pytest.approx(STATIC, abs=1e-12)


def test_nothing_present_is_an_error() -> None:
    fusion = MultiHeadProbabilityFusion()
    with pytest.raises(NoModalityError, match="every modality is missing"):
        fusion.fuse([ModalityProbabilities.missing("audio"), ModalityProbabilities.missing("clip")])
    switched_off = MultiHeadProbabilityFusion(FusionWeights.from_modality_weights({"static_face": 1.0}))
    with pytest.raises(NoModalityError, match="non-zero weight"):
        switched_off.fuse({"audio": AUDIO})


def test_bad_inputs_name_the_problem() -> None:
    fusion = MultiHeadProbabilityFusion()
    with pytest.raises(InvalidProbabilitiesError, match="given twice"):
        fusion.fuse([ModalityProbabilities("audio", AUDIO), ModalityProbabilities("audio", AUDIO)])
    with pytest.raises(InvalidProbabilitiesError, match="unknown modality 'smell'"):
        fusion.fuse({"smell": AUDIO})
    with pytest.raises(InvalidProbabilitiesError, match="sum to 1"):
        fusion.fuse({"audio": AUDIO * 3})


def synthetic_set(n: int, seed: int) -> tuple[list[dict[str, np.ndarray | None]], np.ndarray]:
    """Labels uniform over 7 classes; ``static_face`` informative (a noisy softmax peaked at the label),
    ``audio`` pure noise (confident Dirichlet draws that ignore the label); static missing 20% of the time."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, size=n)
    examples: list[dict[str, np.ndarray | None]] = []
    for label in labels:
        logits = rng.normal(0.0, 1.0, 7)
        logits[label] += 1.5
        informative = np.exp(logits) / np.exp(logits).sum()
        noise = rng.dirichlet(np.full(7, 0.2))
        examples.append({"static_face": informative if rng.random() > 0.2 else None, "audio": noise})
    return examples, labels


def accuracy(
    fusion: MultiHeadProbabilityFusion, examples: list[dict[str, np.ndarray | None]], labels: np.ndarray
) -> float:
    stacked = [stack_modalities(example) for example in examples]
    probabilities = np.stack([p for p, _ in stacked])
    present = np.stack([m for _, m in stacked])
    predicted = fuse_arrays(fusion.weights, probabilities, present).argmax(axis=1)
    return float(np.mean(predicted == labels))


def test_fit_trusts_the_informative_modality_and_beats_uniform_weights() -> None:
    train, train_labels = synthetic_set(800, seed=1)
    test, test_labels = synthetic_set(800, seed=2)
    uniform = MultiHeadProbabilityFusion()
    fitted = MultiHeadProbabilityFusion().fit(train, list(train_labels))

    weights = fitted.weights.modality_weights
    assert weights[MODALITY_NAMES.index("static_face")] > 5 * weights[MODALITY_NAMES.index("audio")]
    uniform_accuracy = accuracy(uniform, test, test_labels)
    fitted_accuracy = accuracy(fitted, test, test_labels)
    assert fitted_accuracy > uniform_accuracy + 0.1, (uniform_accuracy, fitted_accuracy)
    report = fitted.weights.fit_report
    assert report is not None
    assert report.final_loss < report.initial_loss
    assert report.accuracy_after > report.accuracy_before
    assert report.modality_counts["audio"] == 800
    assert 0 < report.modality_counts["static_face"] < 800


def test_fit_is_deterministic() -> None:
    train, labels = synthetic_set(200, seed=3)
    first = MultiHeadProbabilityFusion().fit(train, list(labels), steps=100).weights
    second = MultiHeadProbabilityFusion().fit(train, list(labels), steps=100).weights
    assert np.array_equal(first.modality_weights, second.modality_weights)
    assert np.array_equal(first.class_weights, second.class_weights)


def test_fit_learns_a_class_head_for_a_modality_that_only_knows_one_class() -> None:
    """The face confuses Sadness with Neutral; audio only recognises Sadness (elsewhere it is noise). The
    Sadness head should lean on audio, the Happiness head on the face.

    (A limit of additive fusion, seen while writing this test: sad segments stay hard, because the face's
    confident "Neutral" still wins the Neutral head; per-class weights cannot veto a modality's wrong class.)"""
    rng = np.random.default_rng(4)
    sadness, neutral = BASIC_EMOTIONS.index("Sadness"), BASIC_EMOTIONS.index("Neutral")
    labels = rng.integers(0, 7, size=600)
    examples = []
    for label in labels:
        face_logits = rng.normal(0.0, 0.5, 7)
        face_logits[neutral if label == sadness else label] += 2.5
        audio_logits = rng.normal(0.0, 0.5, 7)
        audio_logits[sadness if label == sadness else rng.choice([i for i in range(7) if i != sadness])] += 2.5
        examples.append(
            {
                "static_face": np.exp(face_logits) / np.exp(face_logits).sum(),
                "audio": np.exp(audio_logits) / np.exp(audio_logits).sum(),
            }
        )
    fitted = MultiHeadProbabilityFusion().fit(examples, list(labels), class_l2=1e-3)
    both = np.zeros(NUM_MODALITIES, dtype=bool)
    both[[MODALITY_NAMES.index("static_face"), MODALITY_NAMES.index("audio")]] = True
    effective = fitted.weights.effective(both)
    audio_row = MODALITY_NAMES.index("audio")
    assert effective[audio_row, sadness] > 0.5
    assert effective[audio_row, BASIC_EMOTIONS.index("Happiness")] < 0.5
    # Overall the heads help a lot (the face no longer drowns in audio noise) ...
    assert accuracy(fitted, examples, labels) > accuracy(MultiHeadProbabilityFusion(), examples, labels) + 0.2


def test_fit_rejects_unusable_training_data() -> None:
    fusion = MultiHeadProbabilityFusion()
    with pytest.raises(InvalidProbabilitiesError, match="2 examples but 1 labels"):
        fusion.fit([{"audio": AUDIO}, {"audio": AUDIO}], [1])
    with pytest.raises(NoModalityError, match="example 1 has no modality present"):
        fusion.fit([{"audio": AUDIO}, {"audio": None}], ["Anger", "Surprise"])
    with pytest.raises(InvalidProbabilitiesError, match="unknown label 'Joy'"):
        fusion.fit([{"audio": AUDIO}], ["Joy"])


def test_weights_round_trip_through_json(tmp_path: Path) -> None:
    train, labels = synthetic_set(200, seed=5)
    fitted = MultiHeadProbabilityFusion().fit(train, list(labels), steps=50)
    path = fitted.save(tmp_path / "weights" / "cer.json")
    assert sorted(p.name for p in path.parent.iterdir()) == ["cer.json"]  # no temporary file left behind
    data = json.loads(path.read_text())
    assert data["format"] == "mien-cer-fusion-weights"
    assert data["fit"]["examples"] == 200
    loaded = MultiHeadProbabilityFusion.load(path)
    segment = {"static_face": STATIC, "dynamic_face": DYNAMIC, "audio": None}
    assert loaded.fuse(segment).probabilities == pytest.approx(fitted.fuse(segment).probabilities, abs=1e-12)
    assert loaded.weights.fit_report == fitted.weights.fit_report


def test_loading_a_broken_weights_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        FusionWeights.load(tmp_path / "absent.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON"):
        FusionWeights.load(garbage)
    incomplete = FusionWeights.uniform().to_dict()
    del incomplete["class_weights"]["audio"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(incomplete))
    with pytest.raises(ConfigError, match="incomplete or malformed"):
        FusionWeights.load(partial)


def test_fit_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(6)
    probabilities = rng.dirichlet(np.ones(7), size=(40, NUM_MODALITIES))
    present = rng.random((40, NUM_MODALITIES)) > 0.4
    present[:, 0] = True
    targets = rng.integers(0, 7, size=40)
    a, b = rng.normal(size=NUM_MODALITIES), rng.normal(size=(NUM_MODALITIES, 7))
    _, _, grad_a, grad_b = fusion_loss(a, b, probabilities, present, targets, 0.03)
    step = 1e-6
    for i in range(NUM_MODALITIES):
        d = np.zeros(NUM_MODALITIES)
        d[i] = step
        plus = fusion_loss(a + d, b, probabilities, present, targets, 0.03)[0]
        minus = fusion_loss(a - d, b, probabilities, present, targets, 0.03)[0]
        assert grad_a[i] == pytest.approx((plus - minus) / (2 * step), abs=1e-8)
    for i, j in [(0, 0), (2, 3), (5, 6)]:
        d = np.zeros((NUM_MODALITIES, 7))
        d[i, j] = step
        plus = fusion_loss(a, b + d, probabilities, present, targets, 0.03)[0]
        minus = fusion_loss(a, b - d, probabilities, present, targets, 0.03)[0]
        assert grad_b[i, j] == pytest.approx((plus - minus) / (2 * step), abs=1e-8)
