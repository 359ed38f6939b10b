"""The CLIP modality's wiring, on a tiny randomly initialised open_clip model that this test builds and saves.

No CLIP weights ship in any registry package, so this tests loading from a local folder, prompt prototypes,
image preprocessing and the softmax, NOT accuracy: the tiny model's probabilities mean nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tools.errors import MediaError, ModelUnavailableError
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modalities.clip import CLIP_BACKENDS, CLIP_EMOTION_PROMPTS, ClipLabelMatcher

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    """A folder as open_clip's ``local-dir:`` reads it, and the in-memory model whose weights it holds."""
    import open_clip

    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY_CLIP).eval()
    folder = tmp_path_factory.mktemp("tiny-clip")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP, "preprocess_cfg": {}}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder, model


def reference_probabilities(model: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """The documented computation, written out with open_clip directly: prompt prototypes, cosine, softmax."""
    import open_clip
    from PIL import Image

    transform = open_clip.image_transform(32, is_train=False)
    tokenizer = open_clip.get_tokenizer("ViT-B-32")  # the standard CLIP BPE tokenizer, bundled with open_clip
    with torch.no_grad():
        image_features = model.encode_image(transform(Image.fromarray(image))[None]).double()
        image_features = image_features / image_features.norm(dim=-1, keepdim=True)
        prototypes = []
        for label in BASIC_EMOTIONS:
            text = model.encode_text(tokenizer(list(CLIP_EMOTION_PROMPTS[label]))).double()
            mean = (text / text.norm(dim=-1, keepdim=True)).mean(dim=0)
            prototypes.append(mean / mean.norm())
        logits = model.logit_scale.exp().double() * image_features @ torch.stack(prototypes).T
    return torch.softmax(logits, dim=-1)[0].numpy()


def test_loads_local_weights_and_matches_the_reference_computation(
    tiny_clip: tuple[Path, torch.nn.Module], astronaut: np.ndarray
) -> None:
    folder, model = tiny_clip
    matcher = ClipLabelMatcher.from_local(folder)
    result = matcher.probabilities(astronaut)
    assert result.modality == "clip"
    assert result.source == f"open_clip:{folder.name}"
    assert result.probabilities is not None
    assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    # Equal to the same computation on the in-memory model: the checkpoint's weights were loaded, not re-drawn.
    assert result.probabilities == pytest.approx(reference_probabilities(model, astronaut), abs=1e-6)
    assert matcher.logit_scale == pytest.approx(1 / 0.07, rel=1e-6)  # open_clip's initial scale


def test_embeddings_for_pfsa_and_batches(tiny_clip: tuple[Path, torch.nn.Module], astronaut: np.ndarray) -> None:
    matcher = ClipLabelMatcher.from_local(tiny_clip[0], temperature=0.5)
    assert matcher.label_embeddings.shape == (7, 16)
    embedding = matcher.image_embedding(astronaut)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-9)
    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    batch = matcher.probabilities_batch([astronaut, flipped])
    # float32 kernels differ slightly between batch sizes
    assert batch[0].probabilities == pytest.approx(matcher.probabilities(astronaut).probabilities, abs=1e-6)
    assert matcher.logit_scale == 2.0


def test_refuses_anything_that_would_download(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="pretrained tags are refused"):
        ClipLabelMatcher.from_local("openai", "ViT-B-32")
    with pytest.raises(ModelUnavailableError, match="not found"):
        ClipLabelMatcher.from_local(tmp_path / "absent.pt", "ViT-B-32")


def test_incomplete_local_weights_are_reported(tmp_path: Path, tiny_clip: tuple[Path, torch.nn.Module]) -> None:
    with pytest.raises(ModelUnavailableError, match=r"no open_clip_config\.json"):
        ClipLabelMatcher.from_local(tmp_path)
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP}))
    with pytest.raises(ModelUnavailableError, match="holds no checkpoint"):
        ClipLabelMatcher.from_local(tmp_path)
    checkpoint = tiny_clip[0] / "open_clip_pytorch_model.bin"
    with pytest.raises(ModelUnavailableError, match="needs the open_clip model name"):
        ClipLabelMatcher.from_local(checkpoint)
    with pytest.raises(ModelUnavailableError, match="unknown open_clip architecture"):
        ClipLabelMatcher.from_local(checkpoint, "ViT-Tiny-Nonexistent")


def test_rejects_images_that_are_not_rgb_uint8(tiny_clip: tuple[Path, torch.nn.Module]) -> None:
    matcher = ClipLabelMatcher.from_local(tiny_clip[0])
    with pytest.raises(MediaError, match="RGB uint8"):
        matcher.probabilities(np.zeros((32, 32), dtype=np.uint8))


def test_registry_entry_is_ready_only_when_weights_are_configured(
    tiny_clip: tuple[Path, torch.nn.Module], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.settings import get_settings

    entry = next(e for e in CLIP_BACKENDS.entries() if e.name == "open_clip")
    monkeypatch.delenv("MIEN_CLIP_CHECKPOINT", raising=False)
    get_settings.cache_clear()
    assert not entry.ready()
    assert "not configured" in entry.weights()
    monkeypatch.setenv("MIEN_CLIP_CHECKPOINT", str(tiny_clip[0]))
    get_settings.cache_clear()
    assert entry.ready()
    assert entry.weights() == str(tiny_clip[0])
