"""The encrypted gallery through the CLI: ``mien gallery --encrypted ...`` on real photos, ``mien serve gallery``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from evals.clips import astronaut_head
from tools.media import save_image

pytestmark = pytest.mark.slow


def test_enroll_list_identify_remove_in_process(
    tmp_path: Path, astronaut: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    store, keys = tmp_path / "encrypted.sqlite", tmp_path / "keys"
    options = ["gallery", "--encrypted", "--path", str(store), "--keys", str(keys)]
    head = save_image(tmp_path / "head.png", astronaut_head())
    assert main([*options, "add", "Eileen", str(head), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["templates"] == 1
    assert (keys / "secret-context.bin").exists() and (keys / "names.sqlite").exists()
    photo = save_image(tmp_path / "astronaut.png", astronaut)
    assert main([*options, "identify", str(photo), "--json"]) == 0
    (person,) = json.loads(capsys.readouterr().out)["people"]
    assert person["match"]["name"] == "Eileen" and person["match"]["method"] == "encrypted"
    assert main([*options, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "Eileen", "templates": 1}]
    other_keys = ["gallery", "--encrypted", "--path", str(store), "--keys", str(tmp_path / "elsewhere")]
    assert main([*other_keys, "list"]) == 7  # CryptoError: the gallery exists, its keys are not there
    assert "cannot be read without its keys" in capsys.readouterr().err
    assert main([*options, "remove", "Eileen"]) == 0
    assert main([*options, "remove", "Eileen"]) == 6
    assert "not enrolled" in capsys.readouterr().err


def test_serve_gallery_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "gallery", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--store" in out and "--port" in out
