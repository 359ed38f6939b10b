"""Spotting whole videos composed from a real photo: the warped expressions are found at their frames with the
right kind and label; bad input gets a clear message, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.metrics.spotting import LabelledInterval, frame_iou
from tests.spotting.conftest import EXPRESSION_CLIP
from tools.errors import MediaError
from tools.spotting import spot_video


@pytest.mark.slow
def test_the_warped_micro_and_macro_expressions_are_spotted(expression_clip: Path) -> None:
    result = spot_video(expression_clip)
    assert result.frames == 180 and result.fps == pytest.approx(30.0)
    assert [t.track_id for t in result.tracks if t.spotted] == [1]
    assert len(result.intervals) == 2, [i.to_dict() for i in result.intervals]
    micro, macro = result.intervals
    for found, event in zip((micro, macro), EXPRESSION_CLIP.events, strict=True):
        iou = frame_iou(LabelledInterval(found.onset_frame, found.offset_frame),
                        LabelledInterval(event.onset_frame, event.offset_frame))
        assert iou >= 0.5, (found.to_dict(), event)
        assert found.onset_frame <= found.apex_frame <= found.offset_frame
        assert found.onset_s == pytest.approx(found.onset_frame / 30.0, abs=1e-3)
    assert (micro.kind, micro.label) == ("micro", "Happiness")
    assert (macro.kind, macro.label) == ("macro", "Sadness")
    assert "mouth" in micro.regions
    assert any(au.startswith("AU12") for au in micro.action_units), micro.action_units
    assert any(au.startswith("AU15") for au in macro.action_units), macro.action_units


def test_a_video_without_faces_gives_no_tracks_and_says_so(faceless_clip: Path) -> None:
    result = spot_video(faceless_clip)
    assert result.tracks == [] and result.intervals == []
    assert result.notes == ["no face found in the video, so no expression could be spotted"]


def test_a_person_seen_for_three_frames_is_reported_not_spotted(flash_clip: Path) -> None:
    result = spot_video(flash_clip)
    assert result.intervals == []
    assert len(result.tracks) == 1 and not result.tracks[0].spotted
    assert result.tracks[0].frames == 3
    assert "seen for 3 frames (0.10 s), too short to spot" in result.notes[0]


def test_a_one_frame_video_is_a_clear_error(single_frame_clip: Path) -> None:
    with pytest.raises(MediaError, match="has 1 frame; spotting needs at least 3"):
        spot_video(single_frame_clip)


def test_an_image_is_a_clear_error(tmp_path: Path, astronaut) -> None:  # type: ignore[no-untyped-def]
    from tools.media import save_image

    path = save_image(tmp_path / "still.png", astronaut)
    with pytest.raises(MediaError, match="spotting needs a video; this is an image file"):
        spot_video(path)
