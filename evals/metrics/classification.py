"""Classification metrics over (true, predicted) label pairs: accuracy, macro-F1, identification hit rate.

Macro-F1 averages per-class F1 over the classes given (the 7 basic emotions, the 7 C-EXPR-DB compound classes), or
over every class seen in the truth or the predictions (scikit-learn's default). A missing prediction (None) is
wrong for its true class and counts for no class. Labels are compared as given; callers normalise them first
(``emotion_class``, ``compound_class``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evals.metrics.spotting import f1_score
from tools.expression.labels import BASIC_EMOTIONS, COMPOUND_EXPRESSIONS

Pair = tuple[str | None, str | None]


def accuracy(pairs: Sequence[Pair]) -> float:
    """Share of pairs whose prediction equals the truth (0.0 for no pair)."""
    return sum(1 for t, p in pairs if p is not None and t == p) / len(pairs) if pairs else 0.0


def per_class_f1(pairs: Sequence[Pair], classes: Iterable[str] | None = None) -> dict[str, float]:
    """F1 of each class (one-vs-rest)."""
    names = list(classes) if classes is not None else sorted({x for pair in pairs for x in pair if x is not None})
    scores = {}
    for name in names:
        tp = sum(1 for t, p in pairs if t == name and p == name)
        fp = sum(1 for t, p in pairs if t != name and p == name)
        fn = sum(1 for t, p in pairs if t == name and p != name)
        scores[name] = f1_score(tp, fp, fn)
    return scores


def macro_f1(pairs: Sequence[Pair], classes: Iterable[str] | None = None) -> float:
    """Mean per-class F1 (0.0 for no class)."""
    scores = per_class_f1(pairs, classes)
    return sum(scores.values()) / len(scores) if scores else 0.0


def emotion_class(label: str | None) -> str | None:
    """A label's basic emotion class (``BASIC_EMOTIONS`` spelling), from the first emotion word in it."""
    if not label:
        return None
    from agent.grounding import EMOTION_WORDS

    for word in label.lower().replace("#", " ").replace(":", " ").split():
        cls = EMOTION_WORDS.get(word.strip(".,;()"))
        if cls is not None and cls.capitalize() in BASIC_EMOTIONS:
            return cls.capitalize()
    return None


def compound_class(label: str | None) -> str | None:
    """A label's C-EXPR-DB compound class, if it names one ("happily surprised" → "Happily Surprised")."""
    if not label:
        return None
    lowered = " ".join(label.lower().split())
    return next((name for name in COMPOUND_EXPRESSIONS if name.lower() in lowered), None)


def hit_rate(expected: Sequence[Iterable[str]], found: Sequence[Iterable[str]]) -> float:
    """Identification hit rate: share of the expected identities (over all samples) that were found (case-blind);
    1.0 when nothing was expected."""
    total = hits = 0
    for want, got in zip(expected, found, strict=True):
        names = {name.lower() for name in got}
        for name in want:
            total += 1
            hits += name.lower() in names
    return hits / total if total else 1.0
