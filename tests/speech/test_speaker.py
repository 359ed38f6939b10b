"""Who is speaking, on a two-person clip composed from real photos with espeak-ng speech for each in turn and mouth
motion warped on the speaking face (``evals.speaker_clips``): the share of speech time given to the right person,
"unknown" when the speaker's face is not in view, and each person's own words and voice for the fusion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from tools.expression.compound_media import compound_expressions, speech_modalities
from tools.expression.types import EmotionAnalysis, EmotionEstimate, ExpressionTimeline
from tools.langchain_tools.faces import analysed_faces
from tools.speech import Transcript, transcribe
from tools.speech.speaker import SpeakerAttribution, attribute_speakers, mouth_motion, transcript_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def heard(speaker_clip: Any) -> tuple[Any, Transcript]:
    return analysed_faces(str(speaker_clip.path)), transcribe(speaker_clip.path)


def _true_speaker(speaker_clip: Any, start_s: float, end_s: float) -> int | None:
    overlaps = {t.person: min(end_s, t.end_s) - max(start_s, t.start_s) for t in speaker_clip.turns}
    best = max(overlaps, key=lambda k: overlaps[k])
    return best if overlaps[best] > 0 else None


def test_speech_time_goes_to_the_person_whose_mouth_moves(speaker_clip: Any, heard: tuple[Any, Transcript]) -> None:
    faces, transcript = heard
    assert [t.track_id for t in faces.tracks] == [1, 2]  # numbered left to right at the start
    attribution = attribute_speakers(faces.tracks, transcript)
    total = sum(turn.end_s - turn.start_s for turn in attribution.turns)
    right = sum(
        turn.end_s - turn.start_s
        for turn in attribution.turns
        if turn.person == _true_speaker(speaker_clip, turn.start_s, turn.end_s)
    )
    print(f"speech attributed to the right person: {right:.2f} of {total:.2f} s ({right / total:.0%})")
    assert len(attribution.turns) >= 2 and right / total >= 0.9
    for turn in attribution.turns:
        listener = 2 if turn.person == 1 else 1
        assert turn.scores[turn.person or 0] > 10 * max(turn.scores[listener], 0.002)  # not a close call
    assert all(r > 0.1 for r in attribution.correlation.values())


def test_a_voice_whose_face_is_not_in_view_is_unknown(speaker_clip: Any, heard: tuple[Any, Transcript]) -> None:
    faces, transcript = heard
    only_right = [t for t in faces.tracks if t.track_id == 2]  # as if the left speaker were off screen
    attribution = attribute_speakers(only_right, transcript)
    people = [(turn.person, _true_speaker(speaker_clip, turn.start_s, turn.end_s)) for turn in attribution.turns]
    assert (None, 1) in people and (2, 2) in people
    assert all(person in (None, 2) for person, _ in people)


def test_a_still_mouth_moves_less_than_a_speaking_one(heard: tuple[Any, Transcript]) -> None:
    faces, transcript = heard
    first = transcript.segments[0]
    left_times, left = mouth_motion(faces.tracks[0])
    right_times, right = mouth_motion(faces.tracks[1])
    during = (left_times >= first.start_s) & (left_times <= first.end_s)
    assert left[during].mean() > 0.03 > right[(right_times >= first.start_s) & (right_times <= first.end_s)].mean()


def test_each_person_gets_their_own_words_and_voice(heard: tuple[Any, Transcript]) -> None:
    faces, transcript = heard
    attribution = attribute_speakers(faces.tracks, transcript)
    left, right = (transcript_of(transcript, attribution, n) for n in (1, 2))
    assert "happy" in left.text.lower() and "worried" not in left.text.lower()
    assert "worried" in right.text.lower() and "happy" not in right.text.lower()
    left_audio, left_words = speech_modalities(left)
    right_audio, right_words = speech_modalities(right)
    assert left_words.top_label == "Happiness"
    assert right_words.top_label in ("Fear", "Sadness")
    assert left_audio.present and right_audio.present


def test_the_fusion_gives_each_person_their_own_words(heard: tuple[Any, Transcript]) -> None:
    """CER with speakers: person 1's words modality reads her happy sentence, person 2's the worried one; without
    speakers, or when no mouth moved with the speech, the whole clip's words are everyone's (as before)."""
    faces, transcript = heard
    neutral = np.array([0.6, 0.05, 0.05, 0.05, 0.1, 0.1, 0.05])  # the same face evidence for both people
    timelines = [ExpressionTimeline(n, [EmotionEstimate(neutral, "fixed", n, 0.0, 0)]) for n in (1, 2)]
    analysis = EmotionAnalysis("speakers.mp4", "image", "fixed", "none", 0.0, timelines)

    def words_top(speakers: SpeakerAttribution | None) -> dict[int, str]:
        fused = compound_expressions(analysis, transcript, speakers=speakers)
        tops = {}
        for item in fused:
            words = next(m for m in item.to_dict()["modalities"] if m["modality"] == "transcript")
            tops[item.track_id] = max(words["probabilities"], key=words["probabilities"].get)
        return tops

    attribution = attribute_speakers(faces.tracks, transcript)
    own = words_top(attribution)
    assert own[1] == "Happiness" and own[2] in ("Fear", "Sadness")
    shared = words_top(None)
    assert shared[1] == shared[2]
    nobody = SpeakerAttribution([replace(turn, person=None) for turn in attribution.turns], {})
    assert words_top(nobody) == shared
