"""Body cues on a clip with known gestures composed from real photos (``evals.body_clips``), end to end: the face
pipeline's tracks, pose and hands on the tracked person, the cues with their frames, and the agent tool's words.

Each gesture of the script must be found inside its own stretch, on most of the frames sampled there, and no cue
may fall in a still stretch. What the clip cannot test (real arm motion, real leaning, crossed arms) is said in
``evals/body_clips.py``; crossed arms are checked on real landmarks in ``test_cues.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.body_clips import BODY_SCRIPT, Gesture, body_clip
from tools.body import BodyAnalysis, read_body_language
from tools.langchain_tools.body import read_body
from tools.langchain_tools.faces import analysed_faces
from tools.settings import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return body_clip(tmp_path_factory.mktemp("body") / "gestures.mp4")


@pytest.fixture(scope="module")
def analysis(clip: Path) -> BodyAnalysis:
    return read_body_language(analysed_faces(str(clip)), get_settings())


def test_one_person_whose_body_is_seen_on_every_sampled_frame(analysis: BodyAnalysis) -> None:
    assert len(analysis.people) == 1
    person = analysis.people[0]
    assert person.body_seen == len(person.frames) >= 70  # 14.6 s at 5 fps
    assert analysis.sample_fps == 5.0


@pytest.mark.parametrize("gesture", [g for g in BODY_SCRIPT if g.kind], ids=lambda g: g.kind)
def test_each_known_gesture_is_found_with_the_frames_that_show_it(analysis: BodyAnalysis, gesture: Gesture) -> None:
    person = analysis.people[0]
    sampled = [f.frame_index for f in person.frames if gesture.start_s <= f.time_s < gesture.end_s]
    found = [c for c in person.cues if c.kind == gesture.kind]
    assert found, [(c.kind, c.start_s, c.end_s) for c in person.cues]
    frames = {index for cue in found for index in cue.frames}
    inside = frames & set(sampled)
    assert len(inside) >= 0.6 * len(sampled), (sorted(frames), sampled)
    assert gesture.kind is not None
    showing = {
        f.frame_index
        for f in person.frames
        for g in BODY_SCRIPT
        if g.shows(gesture.kind) and g.start_s <= f.time_s < g.end_s
    }
    assert frames <= showing  # never outside the stretches that show it


def test_still_stretches_yield_no_cue(analysis: BodyAnalysis) -> None:
    person = analysis.people[0]
    still = [
        f.frame_index for f in person.frames if not any(g.kind and g.start_s <= f.time_s < g.end_s for g in BODY_SCRIPT)
    ]
    cue_frames = {index for cue in person.cues for index in cue.frames}
    assert len(still) >= 30 and not cue_frames & set(still), sorted(cue_frames & set(still))
    assert not [c for c in person.cues if c.start_s < BODY_SCRIPT[0].end_s]  # the opening 2 s: nothing at all


def test_the_agent_tool_names_each_cue_with_its_time(clip: Path, analysis: BodyAnalysis) -> None:
    finding = read_body(str(clip))
    person = finding.facts["people"][0]
    assert person["person"] == 1 and person["position"] == "center"
    lines = person["body_cues"]
    assert any(line.startswith("hand touches the face 2.0-2.8 s (frames 10-14)") for line in lines), lines
    assert "heuristic" in finding.facts["source"]
    assert finding.label is not None and "leans in" in finding.label
    assert {mark.track_id for mark in finding.marks} == {1} and all(mark.labels for mark in finding.marks)
