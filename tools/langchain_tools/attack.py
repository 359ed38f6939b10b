"""Face attack detection as a tool: is each person a live face, or a printed photo, a screen replay, a mask or a
digital face swap, and which cues say so (attack model, rPPG pulse, blinks, non-rigid motion)."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tools.attack.detector import weights_path
from tools.attack.liveness import assess_liveness
from tools.attack.types import LivenessReport, TrackLiveness
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import Finding
from tools.settings import Settings


def _label(report: LivenessReport) -> str:
    if not report.tracks:
        return "no face"
    attacks = [t for t in report.tracks if t.verdict == "attack"]
    if attacks:
        kinds = sorted({_attack_kind(t) for t in attacks})
        return "attack suspected: " + ", ".join(kinds)
    return "live person" if report.verdict == "live" else "undetermined"


def _attack_kind(track: TrackLiveness) -> str:
    return track.attack_kind or "attack"


def detect_attacks(media: str) -> Finding:
    """Liveness verdict for every person in ``media``, with the evidence behind each."""
    report = assess_liveness(media)
    label = _label(report)
    people: list[dict[str, Any]] = []
    for track in report.tracks:
        person: dict[str, Any] = {"person": track.track_id, "verdict": track.verdict, "evidence": track.reasons}
        if track.verdict == "attack":
            person["attack"] = _attack_kind(track)
        if track.pulse is not None and track.pulse.bpm is not None:
            person["pulse_bpm"] = round(track.pulse.bpm)
        people.append(person)
    if not report.tracks:
        summary = f"no face found in the {report.kind}, so liveness cannot be judged"
    else:
        summary = f"{label} ({len(report.tracks)} face(s) in the {report.kind}): " + " | ".join(
            f"#{t.track_id} {t.verdict}: {'; '.join(t.reasons[-2:])}" for t in report.tracks
        )
    facts = {
        "verdict": report.verdict if report.tracks else "no face",
        "people": people,
        "notes": report.notes,
        "how": "attack model trained on synthesized attacks (estimate); rPPG pulse (POS heuristic); mesh blinks",
    }
    return Finding("detect_attacks", media, label, summary, facts)


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="detect_attacks",
        description="Check whether each face is a live person or a presentation/digital attack: a printed photo, "
        "a screen replay, a mask, or a face swap; for videos also a pulse (rPPG) and blink check.",
        run=detect_attacks,
        args_schema=MediaArgs,
        versions={"attack_weights": str(weights_path()), "liveness_fps": f"{settings.liveness_fps:g}"},
        examples=[
            "Is this a real person or a photo?",
            "Is this face spoofed?",
            "Is someone holding up a printed picture?",
            "Is this a screen replay?",
            "Is the face shown on a phone, tablet or monitor?",
            "Is this a deepfake or a face swap?",
            "Is the person live?",
            "Could this be a mask?",
            "Liveness check.",
            "Is this a real face?",
        ],
    )
