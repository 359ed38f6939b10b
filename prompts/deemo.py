"""DEEMO-style de-identified emotion reasoning: what was said, how it was said, and the body, never who.

The model gets the transcript with times, the prosody of each segment, non-facial body cues and (when the user
allows faces) measured expression numbers — all attached to track numbers, never to names; faces in any image are
blurred and no voice is sent. Our own wording, versioned like the SoVTP templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

DEEMO_VERSION = "deemo-v1"

_TEMPLATES: dict[str, str] = {
    "deemo-v1": (
        "You explain people's emotions without knowing who they are. People are named only by number; faces are "
        "hidden and voices are not available.{faces_note}\n"
        "Transcript:\n{transcript}\n"
        "How it was spoken:\n{prosody}\n"
        "Body cues:\n{body}\n"
        "{expression}"
        "Question: {question}\n\n"
        "Reason from the words, the way they were spoken and the body cues: name the emotion, then give the clues "
        "that support it. Never guess anyone's identity. Keep it under {max_words} words."
    ),
}


@dataclass(frozen=True)
class DeidentifiedCues:
    """The identity-free material of a DEEMO prompt, one string per line.

    ``transcript``: "[0.0-2.4 s] text" lines; ``prosody``: "[0.0-2.4 s] pitch 180 Hz ..." lines; ``body``: body
    cues such as "person 1: head turned away at 3.0 s"; ``expression``: measured expression lines per person
    number, left empty when the user asked not to use faces.
    """

    transcript: Sequence[str] = field(default_factory=tuple)
    prosody: Sequence[str] = field(default_factory=tuple)
    body: Sequence[str] = field(default_factory=tuple)
    expression: Sequence[str] = field(default_factory=tuple)


def deemo_text(question: str, cues: DeidentifiedCues, max_words: int = 120, version: str = DEEMO_VERSION) -> str:
    """The DEEMO prompt for ``question`` from identity-free ``cues``. The question must already be de-identified."""
    if version not in _TEMPLATES:
        raise KeyError(f"unknown DEEMO template {version!r}; known: {', '.join(_TEMPLATES)}")
    expression = ""
    if cues.expression:
        expression = "Measured facial expression (numbers only, faces unseen):\n" + _lines(cues.expression) + "\n"
    faces_note = "" if cues.expression else " Facial expressions are not used."
    return _TEMPLATES[version].format(
        faces_note=faces_note,
        transcript=_lines(cues.transcript, "(no speech)"),
        prosody=_lines(cues.prosody, "(not measured)"),
        body=_lines(cues.body, "(none observed)"),
        expression=expression,
        question=question,
        max_words=max_words,
    )


def _lines(items: Sequence[str], empty: str = "") -> str:
    return "\n".join(f"- {item}" for item in items) if items else f"- {empty}"
