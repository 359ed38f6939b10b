"""Tracks on clips composed from real photos: one track per person, through motion, zoom and crossing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.faces import analyze_file


def test_a_panning_zooming_person_is_one_track(pan_clip: Path) -> None:
    result = analyze_file(pan_clip, fps=5)
    assert result.frames_analysed == 20
    (track,) = result.tracks
    assert len(track.faces) >= 19
    xs = [f.box.center[0] for f in track.faces]
    widths = [f.box.width for f in track.faces]
    assert xs == sorted(xs) and widths[-1] > 1.6 * widths[0]  # it pans right and zooms in
    # Embeddings are per track and sparse, not per frame.
    assert 1 <= track.embedding_count <= 3
    assert track.embedding is not None and abs(float(np.linalg.norm(track.embedding)) - 1) < 1e-5


def test_two_people_crossing_keep_their_own_tracks(crossing_clip: Path) -> None:
    result = analyze_file(crossing_clip, fps=5)
    assert len(result.tracks) == 2
    walking_right, walking_left = sorted(result.tracks, key=lambda t: t.faces[0].box.center[0])
    right_xs = [f.box.center[0] for f in walking_right.faces]
    left_xs = [f.box.center[0] for f in walking_left.faces]
    assert right_xs[-1] - right_xs[0] > 300 and np.all(np.diff(right_xs) > 0)
    assert left_xs[0] - left_xs[-1] > 300 and np.all(np.diff(left_xs) < 0)
    assert len(walking_right.faces) + len(walking_left.faces) >= 35  # a few frames of full occlusion at most


def test_an_image_gives_one_track_per_face(tmp_path: Path, group_photo: np.ndarray) -> None:
    from tools.media import save_image

    path = save_image(tmp_path / "group.jpg", group_photo)
    result = analyze_file(path)
    assert [t.track_id for t in result.tracks] == [1, 2, 3, 4, 5, 6]
    assert all(t.embedding is not None for t in result.tracks)
