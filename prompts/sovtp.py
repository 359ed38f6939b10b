"""SoVTP (Set-of-Vision-Text Prompting): a visual prompt drawn on the full frame plus a five-stage text prompt.

The visual part keeps the whole frame (no crops, so scene and body language stay visible) and draws, per face, a
numbered box, its landmarks and its action-unit labels; the numbers are the track numbers the text refers to. The
text part asks for five stages — scene, body language, other people's emotions, action units, a self-corrected
label. The paper's wording is not public: these templates are ours, versioned so that evaluations can name them.
A text-only model gets the text part, whose evidence block already lists each numbered face and its AUs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.faces.draw import draw_faces
from tools.faces.types import Box, Face
from tools.langchain_tools.types import FaceMark

SOVTP_VERSION = "sovtp-v1"

_TEXT_TEMPLATES: dict[str, str] = {
    # The stages are one instruction line, not a list to fill in: small models copy a list back verbatim.
    "sovtp-v1": (
        "You read people's emotions in {media_kind}. {visual_note}\n"
        "Evidence measured by perception tools (faces are numbered):\n"
        "{evidence}\n\n"
        "Question: {question}\n"
        "Think through five stages: (1) the scene, (2) body language, (3) the other people's emotions, (4) the "
        "facial action units, (5) a final emotion label, corrected if the first four stages disagree with it.\n"
        "Write your answer in at most {max_words} words."
    ),
}

_VISUAL_NOTES = {
    True: "The image{s} show{verb} the full frame{s} with each face boxed and numbered, its landmarks as dots and its "
    "action units written beside it.",
    False: "No image is attached; rely on the measurements below.",
}


def draw_sovtp_frame(frame_rgb: np.ndarray, marks: Sequence[FaceMark], max_labels_per_face: int = 4) -> np.ndarray:
    """A copy of ``frame_rgb`` (RGB uint8, (H, W, 3)) with every face's number, box, landmarks and AU labels drawn.

    ``marks`` are in the frame's pixels; their ``points`` are drawn as the face's landmarks. The frame is never
    cropped: context is half of the prompt. Names are never drawn (marks carry none).
    """
    faces = [_face_of(mark) for mark in marks]
    labels = {mark.track_id: list(mark.labels[:max_labels_per_face]) for mark in marks}
    return draw_faces(frame_rgb, faces, landmarks=True, pose=False, labels=labels)


def sovtp_text(
    question: str,
    evidence: str,
    media_kind: str,
    images: int,
    max_words: int = 120,
    version: str = SOVTP_VERSION,
) -> str:
    """The five-stage text part. ``evidence`` lists the numbered faces and their measurements; ``images`` is how
    many annotated frames go with it (0 for a text-only model)."""
    if version not in _TEXT_TEMPLATES:
        raise KeyError(f"unknown SoVTP template {version!r}; known: {', '.join(_TEXT_TEMPLATES)}")
    note = _VISUAL_NOTES[images > 0].format(s="s" if images > 1 else "", verb="" if images > 1 else "s")
    return _TEXT_TEMPLATES[version].format(
        media_kind=media_kind, visual_note=note, evidence=evidence, question=question, max_words=max_words
    )


def _face_of(mark: FaceMark) -> Face:
    points = np.asarray(mark.points, dtype=np.float32).reshape(-1, 2)
    mesh = np.concatenate([points, np.zeros((len(points), 1), np.float32)], axis=1) if len(points) else None
    return Face(box=Box(*mark.box), score=1.0, mesh=mesh, track_id=mark.track_id, time_s=mark.time_s)
