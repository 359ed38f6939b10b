"""Body language: posture, touches, crossed arms, grips, fidgeting, nods and shakes, per tracked person.

From mediapipe's bundled pose and hand landmark models; every cue is a geometric heuristic tied to a face track.
"""

from tools.body.analyze import read_body_language
from tools.body.types import CUE_KINDS, CUE_WORDS, BodyAnalysis, BodyCue, BodyFrame, CueKind, Movement, PersonBody

__all__ = [
    "CUE_KINDS",
    "CUE_WORDS",
    "BodyAnalysis",
    "BodyCue",
    "BodyFrame",
    "CueKind",
    "Movement",
    "PersonBody",
    "read_body_language",
]
