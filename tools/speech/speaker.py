"""Who is speaking: each speech segment given to the person whose mouth moves with it (active-speaker detection).

For every face track, the mouth's opening (inner lips apart, from the 478-point mesh, in inter-ocular distances)
is sampled on the face pipeline's frames; its frame-to-frame change is the mouth motion. A segment goes to the
person whose mouth moves more during it than during the clip's silences, by at least ``MIN_CONTRAST``; when no
visible face moves (a voice off screen, a narrator, a face turned away), the segment's speaker is ``None``
("unknown"). Per person, the correlation of mouth motion with voice activity over the whole clip is reported too.
It is a geometric heuristic, not a trained audio-visual model: a person chewing during someone else's speech would
fool it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.faces.types import Face, Track
from tools.speech.types import Segment, Transcript

UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
MIN_CONTRAST = 0.02  # IODs per frame more mouth motion during the segment than in silence
MIN_FRAMES = 2  # a person must be seen on this many frames of a segment to be considered


def mouth_opening(face: Face) -> float | None:
    """Inner lips apart, in inter-ocular distances, or None without a mesh."""
    if face.mesh is None:
        return None
    iod = float(np.linalg.norm(face.mesh[RIGHT_EYE_OUTER, :2] - face.mesh[LEFT_EYE_OUTER, :2]))
    if iod <= 1.0:
        return None
    return float(np.linalg.norm(face.mesh[UPPER_INNER_LIP, :2] - face.mesh[LOWER_INNER_LIP, :2])) / iod


def mouth_motion(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """(times (n,), motion (n,)): how much the mouth opened or closed since the previous frame of the track."""
    samples = [(float(f.time_s or 0.0), o) for f in track.faces if (o := mouth_opening(f)) is not None]
    if len(samples) < 2:
        return np.zeros(0), np.zeros(0)
    times, openings = np.array(samples).T
    return times[1:], np.abs(np.diff(openings))


@dataclass(frozen=True)
class SpeakerTurn:
    """One speech segment and who said it: ``person`` is a track number or None (unknown).

    ``scores`` are each visible person's mouth-motion contrast for the segment (IODs per frame above their
    motion in silence).
    """

    start_s: float
    end_s: float
    text: str
    person: int | None
    scores: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_s": round(self.start_s, 2),
            "to_s": round(self.end_s, 2),
            "text": self.text,
            "person": self.person,
            "scores": {str(k): round(v, 4) for k, v in self.scores.items()},
        }


@dataclass(frozen=True)
class SpeakerAttribution:
    """Every segment's speaker, and per person the correlation of mouth motion with voice activity."""

    turns: list[SpeakerTurn]
    correlation: dict[int, float]
    method: str = "mouth motion (mesh inner lips) against voice activity; a heuristic"

    def person_of(self, start_s: float, end_s: float) -> int | None:
        """The speaker of the turn overlapping [start_s, end_s] most, or None."""
        best, overlap = None, 0.0
        for turn in self.turns:
            shared = min(end_s, turn.end_s) - max(start_s, turn.start_s)
            if shared > overlap:
                best, overlap = turn.person, shared
        return best

    def speech_seconds(self) -> dict[int | None, float]:
        """Seconds of speech attributed to each person (None: unknown)."""
        out: dict[int | None, float] = {}
        for turn in self.turns:
            out[turn.person] = out.get(turn.person, 0.0) + turn.end_s - turn.start_s
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "turns": [turn.to_dict() for turn in self.turns],
            "mouth_voice_correlation": {str(k): round(v, 3) for k, v in self.correlation.items()},
        }


def _spans(transcript: Transcript) -> list[tuple[float, float, str]]:
    if transcript.segments:
        return [(s.start_s, s.end_s, s.text) for s in transcript.segments]
    return [(r.start_s, r.end_s, "") for r in transcript.speech_regions]


def _in_spans(times: np.ndarray, spans: Sequence[tuple[float, float, str]]) -> np.ndarray:
    inside = np.zeros(times.shape, dtype=bool)
    for start, end, _ in spans:
        inside |= (times >= start) & (times <= end)
    return inside


def attribute_speakers(tracks: Sequence[Track], transcript: Transcript) -> SpeakerAttribution:
    """Each segment of ``transcript`` (or voice-activity region, when nothing was recognised) to a person."""
    spans = _spans(transcript)
    voice_spans = [(r.start_s, r.end_s, "") for r in transcript.speech_regions] or spans
    motion = {track.track_id: mouth_motion(track) for track in tracks}
    quiet: dict[int, float] = {}
    correlation: dict[int, float] = {}
    for track_id, (times, moves) in motion.items():
        if moves.size == 0:
            continue
        speaking = _in_spans(times, voice_spans)
        silent = moves[~speaking]
        quiet[track_id] = float(np.median(silent)) if silent.size else float(np.percentile(moves, 20))
        if speaking.any() and (~speaking).any() and moves.std() > 0:
            correlation[track_id] = float(np.corrcoef(moves, speaking.astype(float))[0, 1])
    turns = []
    for start, end, text in spans:
        scores: dict[int, float] = {}
        for track_id, (times, moves) in motion.items():
            during = moves[(times >= start) & (times <= end)]
            if during.size >= MIN_FRAMES and track_id in quiet:
                scores[track_id] = float(np.mean(during)) - quiet[track_id]
        winner = max(scores, key=lambda k: scores[k], default=None)
        person = winner if winner is not None and scores[winner] >= MIN_CONTRAST else None
        turns.append(SpeakerTurn(start, end, text, person, scores))
    return SpeakerAttribution(turns, correlation)


def segments_of(
    transcript: Transcript, attribution: SpeakerAttribution, person: int, with_unknown: bool = False
) -> list[Segment]:
    """The transcript's segments said by ``person`` (their words, prosody and times unchanged), and with
    ``with_unknown`` also those whose speaker is unknown (speech in the room that may be theirs)."""
    wanted = {person, None} if with_unknown else {person}
    return [s for s in transcript.segments if attribution.person_of(s.start_s, s.end_s) in wanted]


def transcript_of(
    transcript: Transcript, attribution: SpeakerAttribution, person: int, with_unknown: bool = False
) -> Transcript:
    """``transcript`` narrowed to what ``person`` said (see ``segments_of``), the rest of the fields kept."""
    mine = segments_of(transcript, attribution, person, with_unknown)
    note = None if mine else f"no speech attributed to person {person}"
    return Transcript(
        segments=mine,
        language=transcript.language,
        duration_s=transcript.duration_s,
        speech_regions=transcript.speech_regions,
        model=transcript.model,
        language_probability=transcript.language_probability,
        vad=transcript.vad,
        note=note,
    )
