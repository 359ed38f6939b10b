"""``mien body``: the body cues of a real group photo, as JSON and as a table; a photo with no face is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from evals.samples import group_photo_path
from tools.media import save_image


def test_the_group_photo_shows_hands_holding_cards_and_chips(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["body", str(group_photo_path()), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "image" and "heuristic" in result["source"]
    people = result["people"]
    assert len(people) == 6
    # Person 1 (left, holding her cards up) and person 4 (holding a chip) hold things; no posture from one photo.
    holding = {p["track_id"] for p in people if any(c["cue"] == "object_manipulation" for c in p["cues"])}
    assert {1, 4} <= holding
    assert not [c for p in people for c in p["cues"] if c["cue"] in ("lean_in", "lean_away", "slumped")]
    assert all(p["note"] for p in people)  # each says why posture is not read (or that no body was found)


def test_a_photo_without_a_face_is_refused_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = save_image(tmp_path / "wall.png", np.full((200, 300, 3), 120, np.uint8))
    assert main(["body", str(blank)]) == 4
    assert "no face found" in capsys.readouterr().err
