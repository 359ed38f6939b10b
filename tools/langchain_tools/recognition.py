"""Identification as a tool: the name of each person in an image or video, from the plaintext gallery.

Names stay on this machine; the agent's privacy mode replaces them by track numbers before anything is sent out.
"""

from __future__ import annotations

import hashlib
from typing import Any

from langchain_core.tools import BaseTool

from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import analysed_faces, face_versions, key_face, key_frame_marks, position_word
from tools.langchain_tools.types import Finding
from tools.recognition import PlainGallery
from tools.recognition.service import name_tracks
from tools.settings import Settings, get_settings


def identity_summary(people: list[dict[str, Any]], media_kind: str, where: str, with_scores: bool) -> tuple[str, str]:
    """The label and one-sentence summary of an identification: the names found, or "unknown" / "nobody".

    ``people`` are the per-track dicts (``person``, ``label``, ``score``); ``where`` ends "none matches anyone ..."."""
    known = [p for p in people if p["label"] != "unknown"]
    if not people:
        return "nobody", f"no face found in the {media_kind}"
    if not known:
        return "unknown", f"{len(people)} face(s), none matches anyone {where}"
    unknown = len(people) - len(known)
    named = "; ".join(
        f"#{p['person']} is {p['label']}" + (f" (score {p['score']})" if with_scores else "") for p in known
    )
    return ", ".join(str(p["label"]) for p in known), named + (f"; {unknown} unknown" if unknown else "")


def gallery_fingerprint(settings: Settings) -> str:
    """A hash of the gallery's enrolled names and template counts: an enrollment changes every cached answer."""
    names = PlainGallery(settings.resolved_gallery_path).names()
    return hashlib.sha256(repr(names).encode()).hexdigest()[:16] if names else "empty"


def identify_people(media: str) -> Finding:
    """Each person in ``media`` named from the gallery, or unknown below the embedder's match threshold."""
    settings = get_settings()
    gallery = PlainGallery(settings.resolved_gallery_path)
    video = analysed_faces(media, settings)
    identities = name_tracks(gallery, video)
    people: list[dict[str, Any]] = []
    for track, identity in zip(video.tracks, identities, strict=True):
        people.append(
            {
                "person": track.track_id,
                "position": position_word(key_face(track), video.media.width),
                "label": identity.name or "unknown",
                "score": round(float(identity.score), 3),
            }
        )
    label, summary = identity_summary(people, video.media.kind, "enrolled in the gallery", with_scores=False)
    facts = {
        "people": people,
        "enrolled": len(gallery.names()),
        "threshold": identities[0].threshold if identities else None,
    }
    return Finding("identify_people", media, label, summary, facts, key_frame_marks(video))


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="identify_people",
        description="Name each person in an image or video by matching their face against the enrolled gallery "
        "(unknown when nobody enrolled matches).",
        run=identify_people,
        args_schema=MediaArgs,
        versions=lambda: {**face_versions(get_settings()), "gallery": gallery_fingerprint(get_settings())},
        examples=[
            "Who is this?",
            "Who is this person?",
            "What is her name?",
            "Do you recognise anyone?",
            "Is this someone I enrolled?",
            "Identify the people in the video.",
            "Which person is it?",
            "Is this Jane Doe?",
            "Is that man Barack Obama?",
        ],
    )
