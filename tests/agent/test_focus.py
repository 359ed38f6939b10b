"""Evidence narrowed to the person a question names: by number, or by side through any finding's positions."""

from __future__ import annotations

from agent.focus import focus_person, narrow_to_focus
from agent.router import Focus
from tools.langchain_tools.types import FaceMark, Finding

EMOTIONS = Finding(
    "read_emotions",
    "clip.mp4",
    "#1 Happiness; #2 Fear",
    "2 people with different emotions: #1 Happiness; #2 Fear",
    {
        "people": [
            {"person": 1, "position": "left", "label": "Happiness"},
            {"person": 2, "position": "right", "label": "Fear"},
        ]
    },
    [FaceMark(1, 0.0, [0, 0, 1, 1]), FaceMark(2, 0.0, [2, 0, 3, 1])],
)
SPEECH = Finding(
    "transcribe_speech",
    "clip.mp4",
    "Hello there. Go away.",
    "2 speech segment(s)",
    {
        "text": "Hello there. Go away.",
        "segments": [
            {"from_s": 0.0, "to_s": 1.0, "text": "Hello there.", "person": 1},
            {"from_s": 2.0, "to_s": 3.0, "text": "Go away.", "person": 2},
            {"from_s": 4.0, "to_s": 5.0, "text": "Who said that?", "person": "unknown"},
        ],
    },
)
COUNT = Finding("find_faces", "clip.mp4", "2 people", "2 people seen", {"count": 2})


def test_the_side_is_resolved_to_a_person_number_from_any_finding() -> None:
    assert focus_person([SPEECH, EMOTIONS], Focus(position="right")) == 2
    assert focus_person([SPEECH, EMOTIONS], Focus(person=1, position="right")) == 1
    assert focus_person([SPEECH, EMOTIONS], Focus(position="center")) is None
    assert narrow_to_focus([EMOTIONS, SPEECH], Focus()) == [EMOTIONS, SPEECH]


def test_each_finding_keeps_only_that_persons_entries_words_and_marks() -> None:
    emotions, speech, count = narrow_to_focus([EMOTIONS, SPEECH, COUNT], Focus(position="left"))
    assert emotions.label == "Happiness" and emotions.facts["people"] == [EMOTIONS.facts["people"][0]]
    assert "Fear" not in emotions.summary and [m.track_id for m in emotions.marks] == [1]
    assert speech.label == "Hello there." and speech.facts["text"] == "Hello there."
    assert [s["text"] for s in speech.facts["segments"]] == ["Hello there."]  # not person 2's, not the unknown's
    assert "Go away" not in speech.summary and "Who said" not in speech.summary
    assert count is COUNT  # nothing per person in it


def test_a_person_who_said_nothing_is_told_so() -> None:
    only_two = Finding("transcribe_speech", "c.mp4", "Go away.", "", {"segments": [SPEECH.facts["segments"][1]]})
    (speech,) = narrow_to_focus([only_two], Focus(person=1))
    assert speech.label is None and "said nothing" in speech.summary and speech.facts["segments"] == []
