"""The transcript / scene-text modality on real sentences, with the packaged MiniLM embedder (loaded once)."""

from __future__ import annotations

import numpy as np
import pytest

from tools.expression.compound import PFSAConfig, pfsa
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modalities.text import TextEmotionConfig, TextEmotionModality
from tools.expression.modality import InvalidProbabilitiesError
from tools.text_embedding import get_text_embedder, minilm_model_dir


@pytest.fixture(scope="module")
def text_modality() -> TextEmotionModality:
    return TextEmotionModality(get_text_embedder())


def test_the_packaged_embedder_gives_unit_vectors() -> None:
    assert (minilm_model_dir() / "model.safetensors").is_file()
    embedder = get_text_embedder()
    assert get_text_embedder() is embedder  # loaded once per process
    vectors = embedder.encode(["a first sentence", "another one"])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert embedder.encode([]).shape == (0, 384)


@pytest.mark.parametrize(
    ("sentence", "emotion"),
    [
        ("I am so happy, this is wonderful", "Happiness"),
        ("I'm terrified", "Fear"),
        ("This makes me furious", "Anger"),
        ("Ugh, that smell is revolting, I think I'm going to vomit", "Disgust"),
        ("My dog died yesterday and I can't stop crying", "Sadness"),
        ("Oh! I had no idea you were coming!", "Surprise"),
        ("The train leaves at ten past nine from platform two.", "Neutral"),
    ],
)
def test_obvious_sentences_rank_their_emotion_first(
    text_modality: TextEmotionModality, sentence: str, emotion: str
) -> None:
    result = text_modality.probabilities(sentence)
    assert result.modality == "transcript"
    assert result.top_label == emotion, result.to_dict()


def test_clear_sentences_are_confident(text_modality: TextEmotionModality) -> None:
    happy = text_modality.probabilities("I am so happy, this is wonderful")
    assert happy.probabilities is not None
    assert happy.probabilities.max() > 0.9


def test_neutral_is_raised_to_the_floor() -> None:
    modality = TextEmotionModality.__new__(TextEmotionModality)  # scores need no embedder
    modality.config = TextEmotionConfig(neutral_floor=0.3)
    cosines = np.array([[0.10, 0.25, 0.20, 0.05, 0.00, -0.1, 0.28], [0.40, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]])
    scores = modality.scores_from_cosines(cosines)
    assert scores[0] == pytest.approx([0.30, 0.25, 0.20, 0.05, 0.00, -0.1, 0.28])
    assert scores[1] == pytest.approx(cosines[1])  # a neutral cosine above the floor is kept


def test_neutral_floor_trades_weak_emotion_cues_for_fewer_false_alarms(text_modality: TextEmotionModality) -> None:
    """A documented miss: implicit fear resembles the fear prompts (cosine ~0.28) less than the floor (0.3)."""
    sentence = "There is something moving in the dark and I'm shaking"
    assert text_modality.probabilities(sentence).top_label == "Neutral"
    cosines = text_modality.cosines([sentence])[0]
    assert cosines.argmax() == BASIC_EMOTIONS.index("Fear")
    assert cosines.max() < text_modality.config.neutral_floor
    assert text_modality.probabilities("Please close the window when you leave.").top_label == "Neutral"


def test_blank_text_is_a_missing_modality_and_batches_keep_order(text_modality: TextEmotionModality) -> None:
    results = text_modality.probabilities_batch(["I'm terrified", "   ", "I am so happy"], modality="scene_text")
    assert [r.present for r in results] == [True, False, True]
    assert [r.modality for r in results] == ["scene_text"] * 3
    assert [r.top_label for r in results] == ["Fear", None, "Happiness"]
    single = text_modality.probabilities("I am so happy", modality="scene_text").probabilities
    assert results[2].probabilities == pytest.approx(single, abs=1e-6)


def test_only_text_modalities_are_accepted(text_modality: TextEmotionModality) -> None:
    with pytest.raises(InvalidProbabilitiesError, match="'transcript' or 'scene_text'"):
        text_modality.probabilities("hello", modality="audio")  # type: ignore[arg-type]


def test_label_prototypes_are_unit_vectors(text_modality: TextEmotionModality) -> None:
    labels = text_modality.label_embeddings
    assert labels.shape == (7, 384)
    assert np.linalg.norm(labels, axis=1) == pytest.approx(np.ones(7), abs=1e-9)


@pytest.mark.parametrize(
    ("sentence", "compound"),
    [
        ("I was shocked and terrified", "Fearfully Surprised"),
        ("What a wonderful surprise, I'm thrilled", "Happily Surprised"),
        ("I'm furious and sad at the same time", "Sadly Angry"),
    ],
)
def test_pfsa_on_sentence_embeddings(text_modality: TextEmotionModality, sentence: str, compound: str) -> None:
    result = pfsa(text_modality.embed(sentence), text_modality.label_embeddings, PFSAConfig(temperature=0.05))
    assert result.top_label == compound, result.to_dict()
