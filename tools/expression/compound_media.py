"""Zero-shot compound expressions of the people in a media file: every available modality, fused (CER).

Per tracked person: the static face (mean frame probabilities), the dynamic face (smoothed over time, videos only),
and for the whole clip the voice (prosody heuristic) and the words (MiniLM label similarity on the transcript),
plus a scene description when the caller has one from the served model. Given who said what
(``tools.speech.speaker``), each person's voice and words are their own; without it the audio and transcript
modalities are the same for every person in the clip. The CLIP
modality needs the user's open_clip weights and is left missing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.expression.cer import CompoundExpressionResult, recognize_compound
from tools.expression.dynamics import compute_dynamics, dynamic_face_probabilities
from tools.expression.modalities.audio import ProsodyBaseline, prosody_probabilities
from tools.expression.modalities.text import TextEmotionModality
from tools.expression.modality import ModalityProbabilities
from tools.expression.types import EmotionAnalysis, ExpressionTimeline
from tools.speech.speaker import SpeakerAttribution, transcript_of
from tools.speech.types import Transcript


@dataclass(frozen=True)
class TrackCompound:
    """The fused basic and compound expression of one person over the whole clip."""

    track_id: int
    result: CompoundExpressionResult

    def to_dict(self) -> dict[str, Any]:
        return {"track_id": self.track_id, **self.result.to_dict()}


def speech_modalities(
    transcript: Transcript | None, text_modality: TextEmotionModality | None = None
) -> list[ModalityProbabilities]:
    """The clip-wide ``audio`` and ``transcript`` modalities (missing when there is no speech)."""
    if transcript is None or not transcript.segments:
        return [ModalityProbabilities.missing("audio"), ModalityProbabilities.missing("transcript")]
    prosodies = [s.prosody for s in transcript.segments if s.prosody is not None]
    audio = ModalityProbabilities.missing("audio")
    if prosodies:
        baseline = ProsodyBaseline.from_segments(prosodies)
        present = [
            p.probabilities
            for p in (prosody_probabilities(x, baseline) for x in prosodies)
            if p.probabilities is not None
        ]
        if present:
            audio = ModalityProbabilities("audio", np.mean(present, axis=0), "prosody heuristic, clip mean")
    text = " ".join(s.text.strip() for s in transcript.segments).strip()
    words = (text_modality or TextEmotionModality()).probabilities(text, "transcript") if text else None
    return [audio, words if words is not None else ModalityProbabilities.missing("transcript")]


def face_modalities(timeline: ExpressionTimeline, is_video: bool) -> list[ModalityProbabilities]:
    """The ``static_face`` and ``dynamic_face`` modalities of one person."""
    mean = timeline.mean_probabilities()
    static = (
        ModalityProbabilities("static_face", mean, "frame mean")
        if mean is not None
        else ModalityProbabilities.missing("static_face")
    )
    dynamic = ModalityProbabilities.missing("dynamic_face")
    if is_video and mean is not None and len(timeline.estimates) > 1:
        dynamic = dynamic_face_probabilities(compute_dynamics(timeline))
    return [static, dynamic]


def compound_expressions(
    analysis: EmotionAnalysis,
    transcript: Transcript | None = None,
    scene_text: str | None = None,
    speakers: SpeakerAttribution | None = None,
    physiology: ModalityProbabilities | None = None,
) -> list[TrackCompound]:
    """One ``TrackCompound`` per person whose face was scored; people with no scored frame are left out.

    With ``speakers`` (who said each segment, ``tools.speech.speaker``), each person's voice and words modalities
    come from their own segments plus those whose speaker is unknown (no visible mouth moved with them), and are
    missing for a person to whom nothing can belong; without it, the whole clip's speech is every person's.
    ``physiology`` (``tools.expression.modalities.physiology``, from signals recorded with the video) is one
    person's body, so it is given to every person only when there is one; with several people it is left out.
    """
    text_modality = TextEmotionModality() if (scene_text or (transcript and transcript.segments)) else None
    shared = [] if speakers is not None and transcript is not None else speech_modalities(transcript, text_modality)
    if scene_text and text_modality is not None:
        shared.append(text_modality.probabilities(scene_text, "scene_text"))
    if physiology is not None and len(analysis.timelines) == 1:
        shared.append(physiology)
    results = []
    for timeline in analysis.timelines:
        faces = face_modalities(timeline, analysis.kind == "video")
        if all(m.probabilities is None for m in faces):
            continue
        own = []
        if speakers is not None and transcript is not None:
            own = speech_modalities(transcript_of(transcript, speakers, timeline.track_id, True), text_modality)
        results.append(TrackCompound(timeline.track_id, recognize_compound(faces + own + shared)))
    return results
