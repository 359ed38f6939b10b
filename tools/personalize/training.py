"""The training loop, diffusers' textual-inversion scheme: noise the face crops' latents at a random timestep, have
the UNet predict the noise under "a photo of <name>"-style prompts, and descend the denoising loss.

ID-EA and the plain textual-inversion baseline run through this same loop and differ only in what trains: the
baseline trains the pseudo-token embeddings themselves; ID-EA trains the ID-Enhancer (which makes the tokens from the
face-recognition embedding), the ID-Adapter and the UNet's cross-attention key/value weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from tools.personalize.adapter import IDAdapter
from tools.personalize.anchors import anchor_embeddings
from tools.personalize.enhancer import IDEnhancer
from tools.personalize.model import add_placeholder_tokens, cross_attention_kv, encode_prompts, placeholder_for
from tools.personalize.model import token_strings as make_token_strings
from tools.personalize.photos import ReferenceFace
from tools.personalize.state import KV_DTYPE, Personalization
from tools.personalize.types import PersonalizeOptions, TrainReport

StepCallback = Callable[[int, int, float], None]
"""Called with (steps done, steps total, last loss)."""


@dataclass(frozen=True)
class Batch:
    """One training batch: latent indices, noise (batch, 4, h, w), timesteps (batch,), prompts."""

    indices: torch.Tensor
    noise: torch.Tensor
    timesteps: torch.Tensor
    prompts: list[str]


class Trainer:
    """Holds the pipeline, the trainable parts and the optimizer for one person."""

    def __init__(self, pipe: Any, references: Sequence[ReferenceFace], name: str, options: PersonalizeOptions) -> None:
        from diffusers import DDPMScheduler

        self.pipe = pipe
        self.name = name
        self.options = options
        self.references = list(references)
        self.device = pipe.device
        self.noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
        self.placeholder = placeholder_for(name)
        self.token_strings = make_token_strings(self.placeholder, options.tokens)
        self.ids = add_placeholder_tokens(pipe, self.token_strings)
        pipe.text_encoder.get_input_embeddings().requires_grad_(False)
        identity = np.mean([r.embedding for r in references], axis=0)
        self.reference_embedding = (identity / max(float(np.linalg.norm(identity)), 1e-12)).astype(np.float32)
        self.identity = torch.as_tensor(self.reference_embedding, device=self.device)[None]
        anchors = anchor_embeddings(pipe).to(self.device)
        text_dim = int(pipe.text_encoder.config.hidden_size)
        self.enhancer: IDEnhancer | None = None
        self.adapter: IDAdapter | None = None
        self.token_parameter: torch.nn.Parameter | None = None
        self.kv = cross_attention_kv(pipe.unet)
        if options.method == "id-ea":
            self.enhancer = IDEnhancer(anchors, self.identity.shape[1], options.tokens).to(self.device)
            self.adapter = IDAdapter(text_dim).to(self.device)
            for layer in self.kv.values():
                layer.weight.requires_grad_(True)
            modules = [*self.enhancer.parameters(), *self.adapter.parameters()]
            weights = [layer.weight for layer in self.kv.values()]
            groups: list[dict[str, Any]] = [
                {"params": modules, "lr": options.module_lr},
                {"params": weights, "lr": options.unet_lr},
            ]
            trainable = [*modules, *weights]
        else:  # the baseline starts where ID-EA's anchor does: the mean of the representative names
            start = anchors.mean(dim=0, keepdim=True).repeat(options.tokens, 1)
            self.token_parameter = torch.nn.Parameter(start.clone())
            groups = [{"params": [self.token_parameter], "lr": options.token_lr}]
            trainable = [self.token_parameter]
        self.optimizer = torch.optim.AdamW(groups, weight_decay=0.0)
        self.latents = self._encode_crops()
        self.trainable_parameters = sum(p.numel() for p in trainable)

    def _encode_crops(self) -> torch.Tensor:
        """VAE latents of the crops and their mirror images (the VAE is frozen, so once), (2n, 4, h, w)."""
        crops = np.stack([r.crop for r in self.references])
        crops = np.concatenate([crops, crops[:, :, ::-1]])
        pixels = torch.as_tensor(crops.copy()).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        vae = self.pipe.vae
        with torch.no_grad():
            latents = vae.encode(pixels.to(self.device, vae.dtype)).latent_dist.mean
        return latents * vae.config.scaling_factor

    def pseudo_tokens(self) -> torch.Tensor:
        """The current pseudo-token embeddings (tokens, text_dim)."""
        if self.enhancer is not None:
            return self.enhancer(self.identity)[0]
        assert self.token_parameter is not None
        return self.token_parameter

    def sample_batch(self, generator: torch.Generator) -> Batch:
        """A random batch (drawn on the CPU so a seed gives the same batch on every device)."""
        size = self.options.batch_size
        indices = torch.randint(0, len(self.latents), (size,), generator=generator)
        noise = torch.randn((size, *self.latents.shape[1:]), generator=generator)
        steps = int(self.noise_scheduler.config.num_train_timesteps)
        timesteps = torch.randint(0, steps, (size,), generator=generator)
        picks = torch.randint(0, len(self.options.templates), (size,), generator=generator)
        prompts = [self.options.templates[int(i)].format(" ".join(self.token_strings)) for i in picks]
        return Batch(indices, noise, timesteps, prompts)

    def loss(self, batch: Batch) -> torch.Tensor:
        """The denoising loss of ``batch`` (noise or velocity target, as the scheduler predicts)."""
        latents = self.latents[batch.indices.to(self.device)]
        noise = batch.noise.to(self.device, latents.dtype)
        timesteps = batch.timesteps.to(self.device)
        noisy = self.noise_scheduler.add_noise(latents, noise, timesteps)
        tokens = self.pseudo_tokens()
        condition = encode_prompts(self.pipe, batch.prompts, self.ids, tokens)
        if self.adapter is not None:
            condition = self.adapter(condition, tokens[None])
        predicted = self.pipe.unet(noisy, timesteps, encoder_hidden_states=condition).sample
        if self.noise_scheduler.config.prediction_type == "v_prediction":
            target = self.noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        return F.mse_loss(predicted.float(), target.float())

    def step(self, batch: Batch) -> float:
        """One optimizer step on ``batch``; the loss before the step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(batch)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        return float(loss.detach())

    def fit(self, progress: StepCallback | None = None) -> tuple[list[float], float]:
        """``options.steps`` steps on random batches; the losses and seconds per step."""
        generator = torch.Generator().manual_seed(self.options.seed)
        losses = []
        started = time.perf_counter()
        for index in range(self.options.steps):
            losses.append(self.step(self.sample_batch(generator)))
            if progress is not None:
                progress(index + 1, self.options.steps, losses[-1])
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        return losses, elapsed / max(self.options.steps, 1)

    def personalization(self, model: str) -> Personalization:
        """What was learned, as saved (the UNet weights in float16)."""
        with torch.no_grad():
            tokens = self.pseudo_tokens().detach().float().cpu().clone()
        adapter = {}
        unet_kv = {}
        if self.adapter is not None:
            adapter = {k: v.detach().float().cpu().clone() for k, v in self.adapter.state_dict().items()}
            unet_kv = {f"{k}.weight": layer.weight.detach().to(KV_DTYPE).cpu().clone() for k, layer in self.kv.items()}
        return Personalization(
            name=self.name,
            method=self.options.method,
            placeholder=self.placeholder,
            token_strings=self.token_strings,
            tokens=tokens,
            embedder=self.references[0].embedder,
            reference_embedding=self.reference_embedding,
            photos=[r.path for r in self.references],
            model=model,
            adapter=adapter,
            unet_kv=unet_kv,
        )


def train(
    pipe: Any,
    references: Sequence[ReferenceFace],
    name: str,
    options: PersonalizeOptions,
    model: str,
    progress: StepCallback | None = None,
) -> tuple[Personalization, TrainReport]:
    """Train on ``references`` and return what was learned and the report (losses, seconds per step)."""
    torch.manual_seed(options.seed)
    started = time.perf_counter()
    trainer = Trainer(pipe, references, name, options)
    losses, per_step = trainer.fit(progress)
    learned = trainer.personalization(model)
    learned.info = {"steps": options.steps, "seconds_per_step": per_step, "final_loss": losses[-1] if losses else None}
    report = TrainReport(
        name=name,
        method=options.method,
        steps=options.steps,
        losses=losses,
        seconds_per_step=per_step,
        seconds=time.perf_counter() - started,
        photos=[r.path for r in references],
        trainable_parameters=trainer.trainable_parameters,
        device=str(trainer.device),
    )
    return learned, report
