"""The identity metric on real photos (independent of any generation): the astronaut's mirror image is the same
person for dlib's ResNet, Tom Hanks is not, a faceless image is reported as such; and CLIP prompt fidelity wired
through a tiny random CLIPModel the test builds (wiring only: its numbers mean nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tools.personalize.metric import available_recognizers, clip_cosines, clip_scores, identity_scores


def test_identity_similarity_with_every_recognizer(astronaut: np.ndarray, tom_hanks: np.ndarray) -> None:
    assert "dlib-resnet" in available_recognizers()
    blank = np.full((200, 200, 3), 90, np.uint8)
    images = [("mirror", astronaut[:, ::-1].copy()), ("hanks", tom_hanks), ("blank", blank)]
    mirror, hanks, empty = identity_scores(images, [astronaut], ["dlib-resnet"])
    same, other = mirror.recognizers[0], hanks.recognizers[0]
    assert same.recognizer == "dlib-resnet" and same.same_person is True and same.similarity is not None
    assert other.same_person is False and other.similarity is not None
    assert same.similarity > other.similarity + 0.05
    assert empty.faces_found == 0 and empty.recognizers[0].similarity is None
    assert empty.recognizers[0].note == "no face found"


def test_references_without_a_face_are_said_to_have_none(astronaut: np.ndarray) -> None:
    (score,) = identity_scores([("a", astronaut)], [np.full((200, 200, 3), 90, np.uint8)], ["dlib-resnet"])
    assert score.recognizers[0].similarity is None and score.recognizers[0].note == "no face in the references"


@pytest.fixture(scope="module")
def tiny_clip(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(tiny_sd / "tokenizer"))
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
            "vocab_size": len(tokenizer), "max_position_embeddings": 16,
            "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config={
            "hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
            "image_size": 32, "patch_size": 8,
        },
        projection_dim=16,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).save_pretrained(str(folder))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(str(folder))
    return folder


def test_clip_prompt_fidelity_is_the_models_own_scaled_cosine(tiny_clip: Path, astronaut: np.ndarray) -> None:
    from transformers import CLIPModel, CLIPProcessor

    images = [astronaut, astronaut[::-1].copy()]
    cosines = clip_cosines(images, "a photo", tiny_clip)
    scores = clip_scores(images, "a photo", tiny_clip)
    model = CLIPModel.from_pretrained(str(tiny_clip)).eval()
    inputs = CLIPProcessor.from_pretrained(str(tiny_clip))(text=["a photo"], images=images, return_tensors="pt")
    with torch.no_grad():  # the model's own forward: logits = exp(logit_scale) x cosine
        logits = model(**inputs).logits_per_image[:, 0] / model.logit_scale.exp()
    assert cosines == pytest.approx([float(v) for v in logits], abs=1e-5)
    assert cosines[0] != cosines[1]  # the two images are told apart
    assert scores == [max(0.0, 100.0 * c) for c in cosines]


def test_a_folder_that_is_not_clip_is_named(tmp_path: Path, astronaut: np.ndarray) -> None:
    from tools.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="not a transformers CLIP folder"):
        clip_scores([astronaut], "a photo", tmp_path)
