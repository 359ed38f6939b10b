"""Building the ensemble's members by name, at the thresholds for analysis or for privacy (de-identification).

Analysis wants a face to be a face (BlazeFace 0.5, MTCNN O-Net 0.9, two votes or one sure detector); hiding wants
every face, so it takes the union of the votes at lower thresholds: BlazeFace 0.35 (plain and mirrored; the mirrored
pass alone also makes false faces, e.g. at 0.5-0.73 under the chin on the full scans of a panning clip, and those are
hidden too), 0.6 on the padded frame (its mirrored border makes false faces at the image's edge), MTCNN 0.8. On the
labelled set (``evals/bench/detection.py``) that union found all 45 faces with 9 false alarms, against 18 with MTCNN
at 0.7 and the padded pass at 0.35 (the false alarms are hidden too, and each blurred blob is an outline the residual
search may grow). The thresholds were picked on that set, so they fit it: more labelled photos would test them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.errors import ConfigError
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.protocols import Detector

ANALYSIS_SCORES = {"mediapipe": 0.5, "mtcnn": 0.9}
PRIVACY_SCORES = {"mediapipe": 0.35, "mediapipe-padded": 0.6, "mtcnn": 0.8}
SURE_SCORE = 0.95
MEMBER_NAMES = ("mediapipe", "mediapipe-padded", "mediapipe-mirrored", "mtcnn", "dlib-mmod", "opencv-haar", "dlib-hog")


def build_member(name: str, privacy: bool = False) -> Detector:
    """The detector ``name`` (one of ``MEMBER_NAMES``) at the analysis or the privacy threshold."""
    scores = PRIVACY_SCORES if privacy else ANALYSIS_SCORES
    if name in ("mediapipe", "mediapipe-padded", "mediapipe-mirrored"):
        from tools.faces.detect_mediapipe import MediapipeDetector

        plain = MediapipeDetector(min_score=scores.get(name, scores["mediapipe"]))
        if name == "mediapipe":
            return plain
        if name == "mediapipe-mirrored":
            from tools.faces.mirrored import MirroredDetector

            return MirroredDetector(plain)
        from tools.faces.padded import PaddedDetector

        return PaddedDetector(plain)
    if name == "mtcnn":
        from tools.faces.detect_mtcnn import MtcnnDetector

        return MtcnnDetector(min_score=scores["mtcnn"])
    if name == "dlib-mmod":
        from tools.faces.detect_mmod import MmodDetector

        return MmodDetector()
    if name == "opencv-haar":
        from tools.faces.detect_opencv import HaarDetector

        return HaarDetector()
    if name == "dlib-hog":
        from tools.faces.detect_dlib import DlibHogDetector

        return DlibHogDetector(max_side_px=1280)
    raise ConfigError(f"unknown ensemble member {name!r}; choose from {', '.join(MEMBER_NAMES)}")


def parse_names(names: str | Sequence[str]) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` as a list of known member names; a ``ConfigError`` names a bad one."""
    items = [n.strip() for n in names.split(",")] if isinstance(names, str) else [n.strip() for n in names]
    items = [n for n in items if n]
    for item in items:
        if item not in MEMBER_NAMES:
            raise ConfigError(f"unknown ensemble member {item!r}; choose from {', '.join(MEMBER_NAMES)}")
    if not items:
        raise ConfigError("the ensemble needs at least one member detector")
    return items


def build_ensemble(names: str | Sequence[str], privacy: bool = False) -> EnsembleDetector:
    """The ensemble of ``names``: two votes or one sure detector for analysis, the union for privacy."""
    members = [build_member(name, privacy) for name in parse_names(names)]
    if privacy:
        return EnsembleDetector(members, min_votes=1)
    return EnsembleDetector(members, min_votes=2, single_score=SURE_SCORE)
