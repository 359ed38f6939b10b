"""Face attack detection and liveness: FA3 (spatial + frequency streams) for print, replay, mask and digital
attacks, an rPPG pulse and mesh blink cues for videos, and the synthesis, training and evaluation around them.

The entry point is ``tools.attack.liveness.assess_liveness``; ``docs/attack.md`` says what each cue can show. The
heavy modules (torch, the face pipeline) are imported by those who need them, not here.
"""

from tools.attack.types import (
    ATTACK_TYPES,
    CLASSES,
    AttackMetrics,
    AttackScore,
    LivenessReport,
    MotionCues,
    PulseEstimate,
    TrackLiveness,
)

__all__ = [
    "ATTACK_TYPES",
    "CLASSES",
    "AttackMetrics",
    "AttackScore",
    "LivenessReport",
    "MotionCues",
    "PulseEstimate",
    "TrackLiveness",
]
