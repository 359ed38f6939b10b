"""The CER API: whatever modalities are available -> fused basic probabilities + compound probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tools.expression.cer import CERConfig, FeatureSimilarityInput, default_fusion, recognize_compound
from tools.expression.compound import PFSAConfig, PPAConfig
from tools.expression.fusion import FusionWeights, MultiHeadProbabilityFusion
from tools.expression.modalities.audio import prosody_probabilities
from tools.expression.modalities.text import TextEmotionModality
from tools.expression.modality import MODALITY_NAMES, ModalityProbabilities, NoModalityError
from tools.speech import Prosody
from tools.text_embedding import get_text_embedder

#                     Neutral Anger Disgust Fear Happiness Sadness Surprise
STATIC = np.array([0.1, 0.0, 0.0, 0.0, 0.7, 0.1, 0.1])
DYNAMIC = np.array([0.3, 0.1, 0.0, 0.0, 0.4, 0.1, 0.1])
WEIGHTS = FusionWeights.from_modality_weights({"static_face": 0.5, "dynamic_face": 0.3, "audio": 0.2})


def test_fused_and_compound_numbers_with_a_missing_modality() -> None:
    result = recognize_compound(
        [ModalityProbabilities("static_face", STATIC), ModalityProbabilities("dynamic_face", DYNAMIC)],
        fusion=MultiHeadProbabilityFusion(WEIGHTS),
    )
    # audio missing: 0.625 * static + 0.375 * dynamic
    fused = [0.175, 0.0375, 0.0, 0.0, 0.5875, 0.1, 0.1]
    assert result.basic_probabilities == pytest.approx(fused, abs=1e-12)
    assert result.top_basic == "Happiness"
    # PPA, plain sums: F+Su, H+Su, S+Su, D+Su, A+Su, F+S, A+S
    scores = [0.1, 0.6875, 0.2, 0.1, 0.1375, 0.1, 0.1375]
    assert result.ppa.scores == pytest.approx(scores, abs=1e-12)
    assert result.compound.probabilities == pytest.approx([s / 1.4625 for s in scores], abs=1e-12)
    assert result.top_compound == "Happily Surprised"
    assert result.primary == "ppa"
    assert result.pfsa is None


def test_result_is_json_with_every_modality_accounted_for() -> None:
    result = recognize_compound(
        {"static_face": STATIC, "audio": None},
        fusion=MultiHeadProbabilityFusion(WEIGHTS),
        config=CERConfig(ppa=PPAConfig(difficulty_weights=True, mask=True)),
        start_s=2.0,
        end_s=6.0,
    )
    data = json.loads(result.to_json())
    assert [m["modality"] for m in data["modalities"]] == list(MODALITY_NAMES)
    assert [m["present"] for m in data["modalities"]] == [True, False, False, False, False, False, False]
    assert data["basic"]["present"] == ["static_face"]
    assert data["basic"]["probabilities"]["Happiness"] == pytest.approx(0.7)
    assert data["compound"]["ppa"]["settings"]["mask"] is True
    assert data["compound"]["top"] == "Happily Surprised"
    assert (data["start_s"], data["end_s"]) == (2.0, 6.0)


def test_pfsa_is_primary_when_asked_and_embeddings_are_given() -> None:
    labels = np.eye(7)  # label k's embedding is the k-th unit vector
    segment = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0])  # cosine 1/sqrt(2) with Fear and Surprise
    similarity = FeatureSimilarityInput(segment, labels, source="crafted")
    config = CERConfig(pfsa=PFSAConfig(normalisation="sum"), primary="pfsa")
    result = recognize_compound({"static_face": STATIC}, similarity=similarity, config=config)
    assert result.primary == "pfsa"
    assert result.top_compound == "Fearfully Surprised"
    half = 0.5 / np.sqrt(2)  # mean of 1/sqrt(2) and 0
    # F+Su = 1/sqrt(2); every other Surprise pair and Sadly Fearful = half; Sadly Angry = 0
    expected = np.array([2 * half, half, half, half, half, half, 0.0])
    assert result.compound.probabilities == pytest.approx(expected / expected.sum(), abs=1e-12)
    assert result.pfsa is not None and result.pfsa.settings["embedding_source"] == "crafted"
    # PPA is still computed from the fused probabilities.
    assert result.ppa.top_label == "Happily Surprised"
    # Without embeddings PFSA cannot run, and the result says PPA was used.
    assert recognize_compound({"static_face": STATIC}, config=config).primary == "ppa"


def test_no_modality_at_all_is_an_error() -> None:
    with pytest.raises(NoModalityError):
        recognize_compound({"audio": None, "transcript": None})


def test_default_fusion_reads_the_configured_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.settings import get_settings

    assert np.allclose(default_fusion().weights.modality_weights, 1 / len(MODALITY_NAMES))
    path = WEIGHTS.save(tmp_path / "cer-weights.json")
    monkeypatch.setenv("MIEN_CER_FUSION_WEIGHTS", str(path))
    get_settings.cache_clear()
    result = recognize_compound({"static_face": STATIC, "dynamic_face": DYNAMIC})
    assert result.basic_probabilities == pytest.approx([0.175, 0.0375, 0.0, 0.0, 0.5875, 0.1, 0.1], abs=1e-12)


def test_real_text_and_prosody_with_a_face_vector() -> None:
    """Transcript read by MiniLM, prosody through the heuristic, and a face vector torn between fear and surprise."""
    text = TextEmotionModality(get_text_embedder())
    transcript = text.probabilities("I was shocked and terrified")
    audio = prosody_probabilities(
        Prosody(
            pitch_mean_hz=290.0,
            pitch_std_hz=30.0,
            energy_db=-18.0,
            words_per_s=4.0,
            syllables_per_s=None,
            voiced_fraction=0.6,
        )
    )
    face = ModalityProbabilities("static_face", np.array([0.05, 0.02, 0.03, 0.40, 0.05, 0.05, 0.40]))
    sentence = "I was shocked and terrified"
    similarity = FeatureSimilarityInput(text.embed(sentence), text.label_embeddings, source="transcript")
    result = recognize_compound(
        [face, transcript, audio], similarity=similarity, config=CERConfig(pfsa=PFSAConfig(temperature=0.05))
    )
    assert result.fused.present == ("static_face", "audio", "transcript")
    assert result.top_basic in {"Fear", "Surprise"}
    assert result.ppa.top_label == "Fearfully Surprised"
    assert result.pfsa is not None and result.pfsa.top_label == "Fearfully Surprised"
