"""Word error rate, for checking transcripts against known text (tests, evaluations, anonymization quality)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
# Whisper writes "I'm" or "I am" for the same sound; scoring should not count that as an error (as in Whisper's
# own English normaliser). Only unambiguous contractions are expanded.
_CONTRACTIONS = {
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are", "it's": "it is",
    "that's": "that is", "there's": "there is", "i've": "i have", "we've": "we have", "you've": "you have",
    "i'll": "i will", "you'll": "you will", "we'll": "we will", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not",
    "aren't": "are not", "wasn't": "was not", "let's": "let us",
}  # fmt: skip


def normalized_words(text: str) -> list[str]:
    """Lower-case words without punctuation, contractions expanded: "Hello, I'm here." -> hello i am here."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return [part for word in words for part in _CONTRACTIONS.get(word, word).split()]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after ``normalized_words`` on both sides.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    ref, hyp = normalized_words(reference), normalized_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / len(ref)
