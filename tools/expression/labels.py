"""The label sets every expression model and fusion step agrees on, in this order."""

from __future__ import annotations

from typing import Final

# The 7 basic emotions (CER / Aff-Wild2 order). Probability vectors everywhere are indexed in this order.
BASIC_EMOTIONS: Final[tuple[str, ...]] = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")

# The 7 C-EXPR-DB compound classes and the two basic emotions each is made of.
COMPOUND_EXPRESSIONS: Final[dict[str, tuple[str, str]]] = {
    "Fearfully Surprised": ("Fear", "Surprise"),
    "Happily Surprised": ("Happiness", "Surprise"),
    "Sadly Surprised": ("Sadness", "Surprise"),
    "Disgustedly Surprised": ("Disgust", "Surprise"),
    "Angrily Surprised": ("Anger", "Surprise"),
    "Sadly Fearful": ("Fear", "Sadness"),
    "Sadly Angry": ("Anger", "Sadness"),
}
