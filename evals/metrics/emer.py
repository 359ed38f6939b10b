"""Explanation scores in the manner of EMER (explainable multimodal emotion reasoning): label overlap and clue overlap.

EMER scores an explanation against a reference one by (a) the overlap of the emotion labels each names and (b) how
many of the reference's clues (a raised brow, a trembling voice, "I lost my job") the explanation also gives. The
judge-based clue overlap is in ``evals.scorers.explanation``; here are the parts with exact definitions:

* ``label_overlap``: precision, recall and F1 of the predicted emotion label set against the reference set, after
  mapping synonyms to classes (``agent.grounding.EMOTION_WORDS``);
* ``clue_coverage``: the share of reference clues whose best cosine similarity to any sentence of the explanation
  reaches ``threshold`` (judge-free, from sentence embeddings);
* ``clue_recall``: the share of reference clues a judge marked as present.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from evals.metrics.spotting import f1_score

CLUE_THRESHOLD = 0.5  # MiniLM cosine; paraphrases of one clue score ~0.6-0.9, unrelated clauses ~0.0-0.3


@dataclass(frozen=True)
class Overlap:
    precision: float
    recall: float
    f1: float


def emotion_set(text: str) -> set[str]:
    """The emotion classes a text names (negated mentions included; EMER labels are plain lists)."""
    from agent.grounding import EMOTION_WORDS

    words = [word.strip(".,;:!?()\"'") for word in text.lower().split()]
    return {EMOTION_WORDS[word] for word in words if word in EMOTION_WORDS}


def label_overlap(predicted: Iterable[str], reference: Iterable[str]) -> Overlap:
    """Set overlap of emotion classes; two empty sets agree perfectly."""
    pred, ref = set(predicted), set(reference)
    if not pred and not ref:
        return Overlap(1.0, 1.0, 1.0)
    tp = len(pred & ref)
    precision = tp / len(pred) if pred else 0.0
    recall = tp / len(ref) if ref else 0.0
    return Overlap(precision, recall, f1_score(tp, len(pred - ref), len(ref - pred)))


def clue_coverage(clue_vectors: np.ndarray, sentence_vectors: np.ndarray, threshold: float = CLUE_THRESHOLD) -> float:
    """Share of clues (rows, unit length) with a sentence (rows, unit length) at cosine >= ``threshold``;
    1.0 for no clue, 0.0 for clues but no sentence."""
    if len(clue_vectors) == 0:
        return 1.0
    if len(sentence_vectors) == 0:
        return 0.0
    best = (np.asarray(clue_vectors) @ np.asarray(sentence_vectors).T).max(axis=1)
    return float(np.mean(best >= threshold))


def clue_recall(matched: Sequence[int], clues: int) -> float:
    """Share of ``clues`` reference clues whose (0-based) index a judge listed as matched; bad indices ignored."""
    if clues == 0:
        return 1.0
    return len({i for i in matched if 0 <= i < clues}) / clues
