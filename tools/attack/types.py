"""The result types of face attack detection: what kind of attack, how sure, and the liveness cues behind it.

One ``AttackScore`` per face crop (the FA3 model's output), one ``PulseEstimate`` and ``MotionCues`` per video
track, one ``TrackLiveness`` combining them, one ``AttackMetrics`` per evaluation. Every field a person reads says
what it is: the model was trained on synthesized attacks, the pulse is a remote-photoplethysmography heuristic,
the blink count comes from mesh geometry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

# The attack types the model's type head scores, in head order. "live" is the bona fide class, not an attack.
ATTACK_TYPES: Final[tuple[str, ...]] = ("print", "replay", "mask", "digital")
LIVE: Final[str] = "live"
CLASSES: Final[tuple[str, ...]] = (LIVE, *ATTACK_TYPES)

Verdict = Literal["live", "attack", "undetermined"]


@dataclass(frozen=True)
class AttackScore:
    """The model's estimate for one face crop.

    ``fake_probability`` is P(attack) from the live/fake head; ``type_probabilities`` the attack-type head's softmax
    over ``ATTACK_TYPES`` (meaningful only when the face looks fake); ``threshold`` the decision threshold chosen
    on validation data when the weights were trained.
    """

    fake_probability: float
    type_probabilities: dict[str, float]
    threshold: float

    @property
    def is_attack(self) -> bool:
        return self.fake_probability >= self.threshold

    @property
    def likely_type(self) -> str:
        return max(self.type_probabilities, key=lambda name: self.type_probabilities[name])

    def to_dict(self) -> dict[str, Any]:
        return {
            "fake_probability": round(self.fake_probability, 4),
            "threshold": round(self.threshold, 4),
            "is_attack": self.is_attack,
            "likely_type": self.likely_type,
            "type_probabilities": {k: round(v, 4) for k, v in self.type_probabilities.items()},
        }


@dataclass(frozen=True)
class PulseEstimate:
    """A remote-photoplethysmography (POS) pulse estimate from facial skin colour over time.

    ``bpm`` is the strongest spectral peak in the heart-rate band; ``snr_db`` the power within +-0.1 Hz of it (and
    its first harmonic) against the rest of the band; ``detected`` is ``snr_db >= threshold_db``. A heuristic
    signal, not a medical measurement.
    """

    bpm: float | None
    snr_db: float
    detected: bool
    seconds: float
    fps: float
    threshold_db: float
    method: str = "POS (Wang et al. 2017)"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bpm"] = None if self.bpm is None else round(self.bpm, 1)
        out["snr_db"] = round(self.snr_db, 2)
        out["seconds"] = round(self.seconds, 2)
        out["fps"] = round(self.fps, 2)
        return out


@dataclass(frozen=True)
class MotionCues:
    """Mesh-geometry cues of a living face: blinks and non-rigid motion.

    ``blinks`` counts dips of the eye aspect ratio; ``nonrigid_motion`` is the median frame-to-frame landmark motion
    left after removing the best similarity transform (head motion), in inter-ocular distances: a photo moved in
    front of a camera moves rigidly, so this stays near zero.
    """

    blinks: int
    eye_aspect_ratio_range: float
    nonrigid_motion: float
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "blinks": self.blinks,
            "eye_aspect_ratio_range": round(self.eye_aspect_ratio_range, 4),
            "nonrigid_motion_iod": round(self.nonrigid_motion, 5),
            "frames": self.frames,
        }


@dataclass
class TrackLiveness:
    """The liveness verdict for one person (a track) with every cue behind it and why."""

    track_id: int
    verdict: Verdict
    reasons: list[str]
    model: AttackScore | None = None
    pulse: PulseEstimate | None = None
    motion: MotionCues | None = None
    face_size_px: float = 0.0
    grayscale: bool = False
    start_s: float = 0.0
    end_s: float = 0.0
    attack_kind: str | None = None  # what an "attack" verdict rests on: a model type, or "photo or still screen"

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "verdict": self.verdict,
            "attack_kind": self.attack_kind,
            "reasons": list(self.reasons),
            "model": None if self.model is None else self.model.to_dict(),
            "pulse": None if self.pulse is None else self.pulse.to_dict(),
            "motion": None if self.motion is None else self.motion.to_dict(),
            "face_size_px": round(self.face_size_px, 1),
            "grayscale": self.grayscale,
            "on_screen_s": [round(self.start_s, 2), round(self.end_s, 2)],
        }


@dataclass(frozen=True)
class AttackMetrics:
    """ISO/IEC 30107-3 style metrics on one test set at a threshold chosen on validation data.

    ``apcer`` is the worst attack type's APCER (the standard's convention), ``apcer_by_type`` each type's share
    of attacks accepted as live; ``bpcer`` the share of live faces rejected; ``acer`` their mean. ``auc`` and
    ``eer`` do not depend on the threshold.
    """

    threshold: float
    apcer: float
    bpcer: float
    acer: float
    auc: float
    eer: float
    apcer_by_type: dict[str, float] = field(default_factory=dict)
    live_count: int = 0
    attack_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("threshold", "apcer", "bpcer", "acer", "auc", "eer"):
            out[key] = round(float(out[key]), 4)
        out["apcer_by_type"] = {k: round(v, 4) for k, v in self.apcer_by_type.items()}
        return out


@dataclass
class LivenessReport:
    """Liveness of every person in one image or video, and what was read to decide it."""

    media: str
    kind: str
    tracks: list[TrackLiveness]
    frames_read: int
    fps: float
    model: str
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        """The file's overall verdict: attack if any person looks like one, live if all look live."""
        verdicts = {track.verdict for track in self.tracks}
        if "attack" in verdicts:
            return "attack"
        return "live" if verdicts == {"live"} else "undetermined"

    def to_dict(self) -> dict[str, Any]:
        return {
            "media": self.media,
            "kind": self.kind,
            "verdict": self.verdict if self.tracks else "undetermined",
            "tracks": [track.to_dict() for track in self.tracks],
            "frames_read": self.frames_read,
            "fps": round(self.fps, 2),
            "model": self.model,
            "notes": list(self.notes),
        }
