"""The transcript and scene-text modalities: zero-shot emotion from text by similarity to label prompts.

No emotion classifier ships in any package, so a text is compared with short prompts for each basic emotion in
the packaged MiniLM sentence-embedding space (``tools.text_embedding``):

* each emotion's prototype is the renormalised mean of its prompts' unit embeddings (prompt ensembling, as done
  for CLIP zero-shot classifiers);
* the score of an emotion is the cosine between the text and its prototype;
* Neutral is "no emotion evidence": its score is the larger of the cosine to the neutral prompts and a floor
  (``neutral_floor``, cosine 0.3). MiniLM places mundane sentences about equally far from every prompt, so
  without the floor an ordinary instruction ("please close the window") would be called fearful or angry;
  with it, a text must resemble an emotion's prompts at least that much to count as emotional;
* probabilities are a softmax of the scores divided by ``temperature`` (0.05: a clear sentence, cosine ~0.3
  above the rest, gets ~0.99; sentences that resemble several emotions stay spread).

The same code reads the served VLM's scene description (``scene_text``). MiniLM reads at most 256 word pieces;
longer texts are truncated by the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import InvalidProbabilitiesError, ModalityProbabilities, softmax_probabilities
from tools.text_embedding import TextEmbedder, get_text_embedder

TextModalityName = Literal["transcript", "scene_text"]
SOURCE: Final[str] = "minilm-label-similarity"

# Prompts per basic emotion. Written once from the label names and common synonyms, not tuned on test sentences.
EMOTION_PROMPTS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "Neutral": (
            "I feel calm and neutral.",
            "Nothing special, just an ordinary day.",
            "The report is due on Monday.",
            "Here is some information.",
            "Okay, that is fine.",
        ),
        "Anger": (
            "I am angry.",
            "I am furious and annoyed.",
            "This makes me mad.",
            "The speaker is angry and irritated.",
        ),
        "Disgust": (
            "That is disgusting.",
            "I feel disgusted and repulsed.",
            "This is gross, it makes me sick.",
            "The speaker is disgusted.",
        ),
        "Fear": ("I am afraid.", "I am scared and anxious.", "This is frightening.", "The speaker is fearful."),
        "Happiness": (
            "I am happy.",
            "I feel joyful and glad.",
            "What a great day, I love it.",
            "The speaker is happy.",
        ),
        "Sadness": (
            "I am sad.",
            "I feel unhappy and heartbroken.",
            "This is depressing, I want to cry.",
            "The speaker is sad.",
        ),
        "Surprise": (
            "I am surprised.",
            "I did not expect that, I am amazed.",
            "What a shock!",
            "The speaker is surprised.",
        ),
    }
)


@dataclass(frozen=True)
class TextEmotionConfig:
    """Softmax temperature over cosine scores, and the cosine below which a text counts as neutral."""

    temperature: float = 0.05
    neutral_floor: float = 0.3


class TextEmotionModality:
    """Basic-emotion probabilities (7,) for a text by zero-shot similarity to label prompts."""

    def __init__(
        self,
        embedder: TextEmbedder | None = None,
        prompts: Mapping[str, Sequence[str]] = EMOTION_PROMPTS,
        config: TextEmotionConfig | None = None,
    ) -> None:
        absent = [label for label in BASIC_EMOTIONS if not prompts.get(label)]
        if absent:
            raise InvalidProbabilitiesError(f"text modality needs at least one prompt per emotion; none for {absent}")
        self.embedder = embedder if embedder is not None else get_text_embedder()
        self.prompts = {label: tuple(prompts[label]) for label in BASIC_EMOTIONS}
        self.config = config or TextEmotionConfig()
        if self.config.temperature <= 0:
            raise InvalidProbabilitiesError(f"temperature must be > 0; got {self.config.temperature}")
        self._label_embeddings: np.ndarray | None = None

    @property
    def label_embeddings(self) -> np.ndarray:
        """Unit prototype embeddings (7, D) in ``BASIC_EMOTIONS`` order; usable for PFSA."""
        if self._label_embeddings is None:
            rows = []
            for label in BASIC_EMOTIONS:
                mean = self.embedder.encode(self.prompts[label]).astype(np.float64).mean(axis=0)
                rows.append(mean / np.linalg.norm(mean))
            matrix = np.stack(rows)
            matrix.setflags(write=False)
            self._label_embeddings = matrix
        return self._label_embeddings

    def embed(self, text: str) -> np.ndarray:
        """The text's unit embedding (D,): the segment embedding PFSA compares with ``label_embeddings``."""
        return self.embedder.encode_one(text).astype(np.float64)

    def cosines(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine (n, 7) between each text and each emotion prototype (before the neutral floor)."""
        return np.asarray(self.embedder.encode(texts).astype(np.float64) @ self.label_embeddings.T)

    def scores_from_cosines(self, cosines: np.ndarray) -> np.ndarray:
        """Scores (..., 7): the cosines with Neutral raised to at least ``neutral_floor``."""
        scores = np.array(cosines, dtype=np.float64)
        neutral = BASIC_EMOTIONS.index("Neutral")
        scores[..., neutral] = np.maximum(scores[..., neutral], self.config.neutral_floor)
        return scores

    def probabilities_batch(
        self, texts: Sequence[str], modality: TextModalityName = "transcript"
    ) -> list[ModalityProbabilities]:
        """One ``ModalityProbabilities`` per text; empty or blank texts are a missing modality (no evidence)."""
        if modality not in ("transcript", "scene_text"):
            raise InvalidProbabilitiesError(f"the text modality is 'transcript' or 'scene_text', not {modality!r}")
        results = [ModalityProbabilities.missing(modality, SOURCE) for _ in texts]
        filled = [i for i, text in enumerate(texts) if text and text.strip()]
        if filled:
            scores = self.scores_from_cosines(self.cosines([texts[i].strip() for i in filled]))
            probabilities = softmax_probabilities(scores, self.config.temperature)
            for i, row in zip(filled, probabilities, strict=True):
                results[i] = ModalityProbabilities(modality, row, SOURCE)
        return results

    def probabilities(self, text: str, modality: TextModalityName = "transcript") -> ModalityProbabilities:
        """Basic-emotion probabilities of one text (missing when the text is empty)."""
        return self.probabilities_batch([text], modality)[0]
