"""The shared types of identity cloaking: what was asked (``CloakOptions``) and what came out (``CloakResult``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from tools.faces.types import Box

Strength = Literal["low", "mid", "high"]
Method = Literal["pixel", "diffaim"]
Goal = Literal["dodge", "impersonate"]


@dataclass(frozen=True)
class StrengthPreset:
    """How hard the cloak pushes. ``linf`` is the largest change of one pixel channel in 0-255 grey levels;
    ``margin`` the surrogate distance (in units of the recognizer's own match threshold) the attack aims past, so that
    re-encoding, which pulls the embedding back towards the original, still leaves it beyond the threshold;
    ``min_ssim`` the whole-photo SSIM (scikit-image's definition) the search is held above."""

    linf: float
    steps: int
    margin: float
    min_ssim: float


# Measured on the astronaut with dlib-bin after JPEG 75 + 0.5x resize (evals/bench/cloak.py): L∞ 4 reached distance
# 0.64, 8 reached 0.87, 12 reached 0.98 against a same-person threshold of 0.6, at SSIM 0.998 / 0.995 / 0.992.
STRENGTHS: Final[dict[str, StrengthPreset]] = {
    "low": StrengthPreset(linf=4.0, steps=60, margin=1.35, min_ssim=0.98),
    "mid": StrengthPreset(linf=8.0, steps=80, margin=1.6, min_ssim=0.96),
    "high": StrengthPreset(linf=12.0, steps=100, margin=1.8, min_ssim=0.94),
}

MIN_FACE_PX: Final[int] = 40
"""Faces narrower than this are cloaked only on request: a recognizer needs about this much, and a cloak on fewer
pixels is mostly destroyed by any resize."""


@dataclass(frozen=True)
class CloakOptions:
    """What to cloak and how. ``face`` picks one face (1-based, left to right) instead of all of them; ``target`` is a
    photo of the person to look like (impersonation) instead of moving away from the source (dodging)."""

    strength: Strength = "mid"
    method: Method = "pixel"
    face: int | None = None
    target: str | None = None
    seed: int = 0
    steps: int | None = None
    sd_model: str | None = None
    allow_small_faces: bool = False

    @property
    def goal(self) -> Goal:
        return "impersonate" if self.target else "dodge"

    @property
    def preset(self) -> StrengthPreset:
        return STRENGTHS[self.strength]


@dataclass
class CloakedFace:
    """One cloaked face: where it is, what the surrogate recognizers measured before and after, and the cost.

    Distances are each recognizer's own (dlib: Euclidean between raw descriptors, same person below 0.6; ArcFace:
    1 - cosine). ``source_distance`` is cloaked vs original; ``target_distance`` cloaked vs the target photo (only for
    impersonation). ``mesh_shift_px`` is the mean movement of the 478 mesh points after cloaking, measured by
    re-running the mesh on the cloaked image (structure preservation).
    """

    number: int
    box: Box
    source_distance: dict[str, float] = field(default_factory=dict)
    source_distance_degraded: dict[str, float] = field(default_factory=dict)
    target_distance: dict[str, float] = field(default_factory=dict)
    target_distance_before: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    steps_run: int = 0
    linf: float = 0.0
    mesh_shift_px: float | None = None

    def protected(self, recognizer: str) -> bool:
        """The cloaked face no longer matches its original for ``recognizer`` (white-box, on the surrogate)."""
        return self.source_distance.get(recognizer, 0.0) >= self.thresholds.get(recognizer, float("inf"))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["box"] = self.box.to_list()
        return out


@dataclass
class CloakResult:
    """A cloaked image and what was measured. ``ssim`` and ``psnr_db`` compare the whole image with the original."""

    faces: list[CloakedFace]
    method: Method
    goal: Goal
    strength: Strength
    surrogates: list[str]
    ssim: float
    psnr_db: float
    seconds: float
    skipped: list[str] = field(default_factory=list)
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["faces"] = [face.to_dict() for face in self.faces]
        return out
