"""``mien ask photo "protect this photo from face recognition"`` end to end: the real CLI in a subprocess, the
embedded chat model as a real process, the real cloaking tool; the protected file must exist and be protected by
dlib's own C++ recognizer's measure, and the answer must cite the tool's distances."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evals.cloak.dlib_judge import THRESHOLD, descriptor
from tools.faces.pipeline import FaceOptions, analyze_image

pytestmark = pytest.mark.slow


def test_ask_protects_the_photo(astronaut: np.ndarray, tmp_path: Path, isolated_home: Path) -> None:
    photo = tmp_path / "me.png"
    Image.fromarray(astronaut).save(photo)
    env = {**os.environ, "MIEN_HOME": str(isolated_home), "MIEN_AGENT_ANSWER_MAX_TOKENS": "40"}
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "ask", str(photo), "Protect this photo from face recognition.", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    cited = [c for c in answer["evidence"] if c["tool"] == "cloak_faces"]
    assert cited, answer["evidence"]
    written = Path(cited[0]["files"][0])
    assert written.is_file() and written.parent == isolated_home / "cloaked"
    assert "no longer match" in cited[0]["summary"]
    cloaked = np.asarray(Image.open(written).convert("RGB"))
    box = analyze_image(astronaut, FaceOptions(mesh=False, pose=False, embeddings=False))[0].box
    assert np.linalg.norm(descriptor(cloaked, box) - descriptor(astronaut, box)) >= THRESHOLD
