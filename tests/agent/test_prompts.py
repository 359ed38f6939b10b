"""SoVTP and DEEMO prompts: what is drawn on the full frame, the five stages, and what stays out of DEEMO."""

from __future__ import annotations

import numpy as np
import pytest

from prompts.deemo import DeidentifiedCues, deemo_text
from prompts.sovtp import draw_sovtp_frame, sovtp_text
from tools.faces import FaceOptions, analyze_image
from tools.langchain_tools.faces import face_mark


def test_the_visual_prompt_marks_the_face_on_the_full_frame(astronaut: np.ndarray) -> None:
    face = analyze_image(astronaut, FaceOptions(embeddings=False))[0]
    mark = face_mark(face, ["Happiness 0.99", "AU12 lip corner puller 4.0"])
    drawn = draw_sovtp_frame(astronaut, [mark])
    assert drawn.shape == astronaut.shape  # never cropped
    changed = np.any(drawn != astronaut, axis=2)
    x0, y0, x1, y1 = (round(v) for v in face.box.to_list())
    assert changed[y0:y1, x0:x1].mean() > 0.01  # landmarks drawn on the face
    assert changed[y1 + 2 :, x0:x1].any() or changed[: max(y0 - 2, 0), x0:x1].any()  # labels beside the box
    assert len(mark.points) > 100  # a useful subset of the 478-point mesh
    assert not np.any(changed[:, : max(x0 - 40, 0)])  # nothing drawn far from the face


def test_the_text_part_has_the_five_stages_and_the_evidence() -> None:
    text = sovtp_text("How does she feel?", "- #1: Happiness, AU12 4.0", "an image", images=0)
    for stage in ("scene", "body language", "other people", "action units", "final emotion label"):
        assert stage in text
    assert "#1: Happiness, AU12 4.0" in text and "No image is attached" in text
    assert "The image shows" in sovtp_text("q", "e", "a video", images=1)
    with pytest.raises(KeyError, match="sovtp-v0"):
        sovtp_text("q", "e", "a video", images=0, version="sovtp-v0")


def test_deemo_leaves_faces_out_unless_given() -> None:
    cues = DeidentifiedCues(transcript=["[0.0-2.0 s] I am so glad"], prosody=["[0.0-2.0 s] pitch_mean_hz 210"])
    text = deemo_text("Why is person 1 happy?", cues)
    assert "I am so glad" in text and "pitch_mean_hz 210" in text
    assert "Facial expressions are not used" in text and "Never guess anyone's identity" in text
    with_faces = deemo_text("q", DeidentifiedCues(expression=["person 1: Happiness"]))
    assert "person 1: Happiness" in with_faces and "not used" not in with_faces
