"""FA3-CLIP's wiring on a tiny randomly initialised open_clip model that this test builds and saves locally.

No CLIP weights ship in any registry package, so this checks loading from a local folder, the prompt splicing
(the learnable context reproduces open_clip's own text encoding when it equals the placeholder tokens'
embeddings), the frozen image tower, and that training moves only FA3's parts. Not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tools.attack.clip_model import CLASS_PROMPTS, FA3Clip, fa3_clip_from_local
from tools.attack.dataset import FaceSamples
from tools.attack.training import predict, train_model
from tools.errors import ModelUnavailableError

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import open_clip

    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY_CLIP).eval()
    folder = tmp_path_factory.mktemp("tiny-clip")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP, "preprocess_cfg": {}}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


def test_prompts_reproduce_open_clips_text_encoder(tiny_clip_dir: Path) -> None:
    model = fa3_clip_from_local(tiny_clip_dir)
    learner = model.prompts
    with torch.no_grad():
        placeholder = model.clip.token_embedding(learner.tokens)[0, 1 : 1 + learner.context.shape[0]]
        learner.context.copy_(placeholder)
        for layer in learner.meta:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        ours = model.encode_prompts(learner(torch.zeros(1, 16)))[0]
        theirs = model.clip.encode_text(learner.tokens, normalize=True)
    assert ours.shape == (len(CLASS_PROMPTS), 16)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_conditional_bias_makes_prompts_depend_on_the_image(tiny_clip_dir: Path) -> None:
    model = fa3_clip_from_local(tiny_clip_dir).eval()
    with torch.no_grad():
        a, b = model.prompts(torch.randn(2, 16))
    assert not torch.allclose(a[:, 1:5], b[:, 1:5])  # the context tokens differ per image
    torch.testing.assert_close(a[:, 5:], b[:, 5:])  # the class words and padding do not


def test_training_moves_fa3_parts_and_never_clip(tiny_clip_dir: Path) -> None:
    model = fa3_clip_from_local(tiny_clip_dir)
    clip_before = {k: v.clone() for k, v in model.clip.state_dict().items()}
    context_before = model.prompts.context.detach().clone()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
    labels = ["live", "print", "replay", "digital"] * 3
    samples = FaceSamples(images, labels, [f"s{i}" for i in range(12)])
    trained = train_model(samples, samples, epochs=2, batch_size=6, model=model)
    for key, value in model.clip.state_dict().items():
        torch.testing.assert_close(value, clip_before[key])
    assert not torch.allclose(model.prompts.context, context_before)
    fake, kinds = predict(trained.model, images)
    assert fake.shape == (12,) and kinds.shape == (12, 4)
    assert np.all((fake >= 0) & (fake <= 1))
    np.testing.assert_allclose(kinds.sum(axis=1), 1.0, rtol=1e-5)


def test_needs_a_model_with_both_towers() -> None:
    with pytest.raises(ModelUnavailableError, match="image and text towers"):
        FA3Clip(torch.nn.Linear(2, 2), None)


def test_missing_weights_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        fa3_clip_from_local(tmp_path / "nowhere")
