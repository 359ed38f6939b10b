"""Body language as a tool: each person's posture, touches, gestures, fidgeting and nods, with when they happen.

Reads the same face tracks as the other adapters (one face analysis per file), then the body tied to each face.
Every cue is a geometric heuristic over mediapipe's pose and hand landmarks, and says so.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tools.body import BodyAnalysis, BodyCue, PersonBody, read_body_language
from tools.faces.types import Face
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import (
    KEY_FRAMES,
    analysed_faces,
    face_mark,
    face_versions,
    key_face,
    people_label,
    position_word,
)
from tools.langchain_tools.types import FaceMark, Finding
from tools.settings import Settings, get_settings

MAX_CUES = 8  # cues listed per person, in time order


def body_versions(settings: Settings) -> dict[str, str]:
    return {**face_versions(settings), "body_fps": f"{settings.body_fps:g}", "body_rules": "1"}


def cue_line(cue: BodyCue, video: bool) -> str:
    """'hand touches the face 2.0-2.8 s (frames 10-14): 81% of a hand's landmarks on the face'."""
    when = f" {cue.start_s:.1f}-{cue.end_s:.1f} s (frames {cue.frames[0]}-{cue.frames[-1]})" if video else ""
    return f"{cue.words}{when}: {cue.detail}"


def person_facts(person: PersonBody, face: Face | None, width: int, video: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {"person": person.track_id}
    if face is not None:
        facts["position"] = position_word(face, width)
    facts["body_cues"] = [cue_line(cue, video) for cue in person.cues[:MAX_CUES]] or ["none observed"]
    if video and person.movement.energy is not None:
        facts["hand_energy"] = (
            f"{person.movement.energy:.2f} shoulder widths/s, still {person.movement.still_fraction:.0%} of the time"
            " the hands are seen"
        )
    elif video:
        facts["hand_energy"] = "not measured (no hand seen on consecutive frames)"
    facts["body_seen_frames"] = f"{person.body_seen}/{len(person.frames)}"
    if person.note:
        facts["note"] = person.note
    return facts


def cue_marks(analysis: BodyAnalysis, faces_by_key: dict[tuple[int, int], Face]) -> list[FaceMark]:
    """Marks on the middle frame of up to ``KEY_FRAMES`` cues, each face labelled with its cues there."""
    cues = sorted((c for p in analysis.people for c in p.cues), key=lambda c: -len(c.frames))[:KEY_FRAMES]
    marks: list[FaceMark] = []
    for frame_index in sorted({c.frames[len(c.frames) // 2] for c in cues}):
        for person in analysis.people:
            face = faces_by_key.get((person.track_id, frame_index))
            if face is None:
                continue
            labels = [c.words for c in person.cues if c.frames[0] <= frame_index <= c.frames[-1]]
            marks.append(face_mark(face, labels))
    return marks


def read_body(media: str) -> Finding:
    """Each person's body language in ``media``."""
    settings = get_settings()
    video_faces = analysed_faces(media, settings)
    analysis = read_body_language(video_faces, settings)
    video = analysis.kind == "video"
    width = video_faces.media.width
    tracks = {t.track_id: t for t in video_faces.tracks}
    people = [
        person_facts(p, key_face(tracks[p.track_id]) if p.track_id in tracks else None, width, video)
        for p in analysis.people
    ]
    seen = [p for p in analysis.people if p.cues]
    if not analysis.people:
        label, summary = None, f"no person found in the {analysis.kind}"
    elif not seen:
        label = "no body cues"
        summary = f"{people_label(len(people))}: no body-language cue observed"
    else:
        label = "; ".join(f"#{p.track_id} " + ", ".join(dict.fromkeys(c.words for c in p.cues)) for p in seen)
        summary = f"{people_label(len(people))}, body cues: {label}"
    faces_by_key = {(int(f.track_id or 0), int(f.frame_index or 0)): f for t in video_faces.tracks for f in t.faces}
    facts = {"source": analysis.source, "people": people}
    return Finding("read_body_language", media, label, summary, facts, cue_marks(analysis, faces_by_key))


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="read_body_language",
        description="Read each person's body language in an image or video: posture (leaning in or away, slumped, "
        "shoulders raised), arms crossed, hands touching the face or neck, handling objects, self-protective "
        "gestures, fidgeting or stillness, nods and head shakes, with the times they happen.",
        run=read_body,
        args_schema=MediaArgs,
        versions=body_versions(settings),
        examples=[
            "What does her body language say?",
            "Is he fidgeting?",
            "Does she touch her face?",
            "Are his arms crossed?",
            "Is anyone leaning in?",
            "Does the person nod or shake their head?",
            "Is she slumped or sitting up straight?",
            "What gestures does she make?",
        ],
        prompt="sovtp",
    )
