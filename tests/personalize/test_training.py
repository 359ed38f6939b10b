"""ID-EA and the textual-inversion baseline on the tiny random pipeline: the loop runs, the loss is finite and falls
on a fixed batch, only the parts each method names train, and a saved file reloads to identical images. These test
the machinery, not the quality: the tiny model's images are noise."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from tools.personalize.adapter import IDAdapter
from tools.personalize.anchors import anchor_embeddings
from tools.personalize.enhancer import IDEnhancer
from tools.personalize.generation import generate, personalized_condition
from tools.personalize.model import encode_prompts, expand_prompt, load_sd
from tools.personalize.state import apply, load, save
from tools.personalize.training import Trainer
from tools.personalize.types import PersonalizeOptions

from .conftest import TEMPLATES


def _trainer(tiny_sd: Path, references: list, method: str, **extra: object) -> Trainer:
    options = PersonalizeOptions(method=method, steps=2, batch_size=2, templates=TEMPLATES, **extra)  # type: ignore[arg-type]
    return Trainer(load_sd(tiny_sd), references, "Eileen", options)


@pytest.mark.parametrize("method", ["id-ea", "textual-inversion"])
def test_loss_is_finite_and_falls_on_a_fixed_batch(tiny_sd: Path, references: list, method: str) -> None:
    trainer = _trainer(tiny_sd, references, method)
    batch = trainer.sample_batch(torch.Generator().manual_seed(0))
    losses = [trainer.step(batch) for _ in range(6)]
    assert all(np.isfinite(losses))
    assert all(later < earlier for earlier, later in itertools.pairwise(losses)), losses


def test_only_the_parts_each_method_names_train(tiny_sd: Path, references: list) -> None:
    for method in ("id-ea", "textual-inversion"):
        trainer = _trainer(tiny_sd, references, method)
        pipe = trainer.pipe
        before = {k: v.clone() for k, v in pipe.unet.state_dict().items()}
        text_before = {k: v.clone() for k, v in pipe.text_encoder.state_dict().items()}
        tokens_before = trainer.pseudo_tokens().detach().clone()
        trainer.fit()
        changed = {k for k, v in pipe.unet.state_dict().items() if not torch.equal(v, before[k])}
        kv = {k for k in before if ".attn2.to_k." in k or ".attn2.to_v." in k}
        assert changed == (kv if method == "id-ea" else set()), method
        assert all(torch.equal(v, text_before[k]) for k, v in pipe.text_encoder.state_dict().items())
        assert not torch.equal(trainer.pseudo_tokens().detach(), tokens_before)  # the identity tokens moved


def test_the_untrained_adapter_leaves_the_condition_as_it_is() -> None:
    torch.manual_seed(0)
    condition, tokens = torch.randn(2, 7, 32), torch.randn(1, 1, 32)
    adapter = IDAdapter(32)
    assert torch.equal(adapter(condition, tokens), condition)
    with torch.no_grad():
        adapter.gate.fill_(1.0)
    assert not torch.allclose(adapter(condition, tokens), condition)


def test_the_enhancer_starts_as_a_mix_of_the_name_anchors(tiny_sd: Path) -> None:
    anchors = anchor_embeddings(load_sd(tiny_sd))
    enhancer = IDEnhancer(anchors, face_dim=128, tokens=2)
    faces = torch.randn(2, 128)
    both = enhancer(faces)
    assert not torch.allclose(both[0], both[1])  # the tokens depend on the identity embedding
    tokens = both[0]  # (2, 32)
    # at initialisation each token is a convex combination of anchor rows: least squares in their span is exact
    solution = torch.linalg.lstsq(anchors.T, tokens.T.detach()).solution
    assert tokens.shape == (2, 32)
    assert torch.allclose(anchors.T @ solution, tokens.T.detach(), atol=1e-5)


def test_the_saved_file_reloads_to_identical_images(tiny_sd: Path, references: list, tmp_path: Path) -> None:
    trainer = _trainer(tiny_sd, references, "id-ea")
    losses, per_step = trainer.fit()
    assert len(losses) == 2 and per_step > 0
    learned = trainer.personalization(str(tiny_sd))
    path = save(learned, tmp_path / "eileen.safetensors")
    reloaded = load(path)
    assert torch.equal(reloaded.tokens, learned.tokens)
    cross_attentions = [name for name, _ in load_sd(tiny_sd).unet.named_modules() if name.endswith(".attn2")]
    assert len(cross_attentions) == 4  # down 1, mid 1, up 2 in the tiny UNet
    assert set(reloaded.unet_kv) == {f"{name}.{p}.weight" for name in cross_attentions for p in ("to_k", "to_v")}
    assert all(torch.equal(reloaded.unet_kv[k], v) for k, v in learned.unet_kv.items())
    prompt = "a photo of <eileen>"
    images = []
    for personalization in (learned, reloaded):
        pipe = load_sd(tiny_sd)
        images.append(generate(pipe, apply(personalization, pipe), prompt, count=2, steps=3, seed=7))
    assert images[0][0].shape == (32, 32, 3) and images[0][0].dtype == np.uint8
    assert all(np.array_equal(a, b) for a, b in zip(images[0], images[1], strict=True))
    assert not np.array_equal(images[0][0], images[0][1])  # two different draws of one prompt


def test_generation_uses_the_learned_token(tiny_sd: Path, references: list) -> None:
    trainer = _trainer(tiny_sd, references, "textual-inversion")
    trainer.fit()
    learned = trainer.personalization(str(tiny_sd))
    pipe = load_sd(tiny_sd)
    applied = apply(learned, pipe)
    personal = personalized_condition(pipe, applied, "a photo of Eileen")  # the name stands for the token too
    with torch.no_grad():
        raw = encode_prompts(pipe, [expand_prompt("a photo of <eileen>", learned.placeholder, learned.token_strings)])
    ids = pipe.tokenizer(["a photo of <eileen>"]).input_ids[0]
    position = ids.index(applied.ids[0])
    assert not torch.allclose(personal[0, position], raw[0, position])  # the learned embedding went in
    assert torch.allclose(personal[0, :position], raw[0, :position])  # causal: the words before it are unchanged
    assert learned.unet_kv == {} and learned.adapter == {}  # the baseline's file holds tokens only


def test_several_pseudo_tokens_all_reach_the_prompt(tiny_sd: Path, references: list) -> None:
    trainer = _trainer(tiny_sd, references, "id-ea", tokens=2)
    assert trainer.token_strings == ["<eileen>", "<eileen>_1"] and trainer.pseudo_tokens().shape == (2, 32)
    batch = trainer.sample_batch(torch.Generator().manual_seed(0))
    ids = trainer.pipe.tokenizer(batch.prompts).input_ids
    assert all(trainer.ids[0] in row and trainer.ids[1] in row for row in ids)
    assert np.isfinite(trainer.step(batch))
