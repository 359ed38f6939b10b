"""One blocking generation: tokens from ``model.generate`` turned into text pieces as they come.

Streamed and non-streamed completions both run through here and differ only in what they do with the pieces, so
at temperature 0 (or with the same seed) the concatenated stream equals the non-streamed answer. Stop sequences
are matched on text, across piece boundaries, and end generation early.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from servers.local.loading import LoadedChatModel


class StopSequenceFilter:
    """Passes text through until a stop sequence appears; holds back text that may be the start of one."""

    def __init__(self, stop_sequences: list[str]) -> None:
        self._stops = [stop for stop in stop_sequences if stop]
        self._pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Text safe to emit now. After a stop sequence is seen, always ""."""
        if self.stopped:
            return ""
        text = self._pending + piece
        hits = [index for index in (text.find(stop) for stop in self._stops) if index >= 0]
        if hits:
            self.stopped = True
            self._pending = ""
            return text[: min(hits)]
        keep = max((_suffix_prefix_length(text, stop) for stop in self._stops), default=0)
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def finish(self) -> str:
        rest, self._pending = self._pending, ""
        return "" if self.stopped else rest


def _pad_token_id(loaded: LoadedChatModel) -> int | None:
    pad = loaded.tokenizer.pad_token_id
    return int(pad) if pad is not None else min(loaded.eos_token_ids, default=None)


def _suffix_prefix_length(text: str, stop: str) -> int:
    for length in range(min(len(text), len(stop) - 1), 0, -1):
        if stop.startswith(text[-length:]):
            return length
    return 0


@dataclass(frozen=True)
class SamplingSettings:
    """What to generate. ``temperature`` 0 means greedy decoding."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    repetition_penalty: float = 1.0


@dataclass(frozen=True)
class GenerationOutcome:
    completion_tokens: int
    finish_reason: Literal["stop", "length"]
    first_token_s: float | None
    total_s: float

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.total_s if self.total_s > 0 else 0.0


def generate_pieces(
    loaded: LoadedChatModel,
    prompt_ids: Any,
    sampling: SamplingSettings,
    on_text: Callable[[str], None],
    should_stop: Callable[[], bool],
) -> GenerationOutcome:
    """Generate from ``prompt_ids`` (LongTensor (1, prompt_tokens)), calling ``on_text`` with each new piece of
    text (a word or so; stop sequences removed). Blocks; call from the worker thread only. Once ``should_stop()``
    is true, generation ends after the current token."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

    started = time.perf_counter()
    stop_filter = StopSequenceFilter(sampling.stop)
    counts = {"tokens": 0, "last": -1}
    first_token_at: list[float] = []

    def emit(text: str) -> None:
        safe = stop_filter.feed(text)
        if safe:
            on_text(safe)

    class PieceStreamer(TextStreamer):  # type: ignore[misc]
        """transformers' word-boundary detokenizer, delivering pieces to ``emit`` and counting tokens."""

        def put(self, value: Any) -> None:
            if not self.next_tokens_are_prompt:
                if not first_token_at:
                    first_token_at.append(time.perf_counter() - started)
                counts["tokens"] += int(value.numel())
                counts["last"] = int(value.reshape(-1)[-1])
            super().put(value)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                emit(text)

    class StopOnRequest(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = stop_filter.stopped or should_stop()
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    generate_kwargs: dict[str, Any] = {
        "max_new_tokens": sampling.max_new_tokens,
        "streamer": PieceStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True),
        "stopping_criteria": StoppingCriteriaList([StopOnRequest()]),
        "pad_token_id": _pad_token_id(loaded),
        "attention_mask": torch.ones_like(prompt_ids),
    }
    if sampling.temperature > 0:
        generate_kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
    else:
        generate_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if sampling.repetition_penalty != 1.0:
        generate_kwargs["repetition_penalty"] = sampling.repetition_penalty
    if sampling.seed is not None:
        torch.manual_seed(sampling.seed)
    with torch.inference_mode():
        loaded.model.generate(prompt_ids, **generate_kwargs)
    rest = stop_filter.finish()
    if rest:
        on_text(rest)
    hit_limit = counts["tokens"] >= sampling.max_new_tokens and counts["last"] not in loaded.eos_token_ids
    finish: Literal["stop", "length"] = "length" if hit_limit and not stop_filter.stopped else "stop"
    return GenerationOutcome(
        completion_tokens=counts["tokens"],
        finish_reason=finish,
        first_token_s=first_token_at[0] if first_token_at else None,
        total_s=time.perf_counter() - started,
    )
