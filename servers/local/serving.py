"""The chat service behind ``/v1/chat/completions``: one model, one worker thread, a bounded queue.

Every touch of the model and its tokenizer (loading, rendering prompts, generating) runs on one worker thread, in
arrival order: the model generates one answer at a time and the tokenizer is never used from two threads. Requests
beyond ``max_queue`` waiting ones are refused at once with 503 (``queue_full``) rather than left to time out.
Loading is the worker's first job, started with the server; requests that arrive meanwhile wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from servers.local.errors import APIError, invalid_request, model_failed, model_not_found, server_busy
from servers.local.generation import GenerationOutcome, SamplingSettings, generate_pieces
from servers.local.llama_engine import LlamaChatModel, load_llama_model
from servers.local.loading import LoadedChatModel, ModelSource, load_chat_model
from servers.local.prompting import RenderedPrompt, forced_call_stop, render_prompt
from servers.local.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    FinishReason,
    HealthResponse,
    Usage,
    unix_time_s,
)
from servers.local.responses import AnswerFormat, completion_events, completion_response
from servers.local.tool_calls import tool_calls_finished

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()  # marks the end of a stream's piece queue


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, rendered and tokenized: ``prompt_ids`` is a LongTensor (1, prompt_tokens) for
    transformers, a list of token ids for llama.cpp; ``grammar`` constrains llama.cpp's output (response_format)."""

    request: ChatCompletionRequest
    rendered: RenderedPrompt
    prompt_ids: Any
    sampling: SamplingSettings
    grammar: Any = None

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt_ids) if isinstance(self.prompt_ids, list) else int(self.prompt_ids.shape[1])


@dataclass(frozen=True)
class ServiceLimits:
    """How the model runs: threads, queue, default answer length, runtime (``auto``: llama.cpp for a GGUF when
    installed, see ``catalog.resolve_runtime``) and llama.cpp's context window."""

    threads: int = 1
    max_queue: int = 8
    default_max_tokens: int = 512
    runtime: str = "auto"
    context_tokens: int = 4096


class ChatService:
    """Serves one local chat model. Create it, call ``start_loading()``, then ``complete`` / ``open_stream``."""

    def __init__(
        self, source: ModelSource, limits: ServiceLimits | None = None, cache_root: Path | None = None
    ) -> None:
        self.source = source
        self.limits = limits or ServiceLimits()
        self.cache_root = cache_root
        self.created = unix_time_s()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mien-llm")
        self._load: Future[LoadedChatModel | LlamaChatModel] | None = None
        self._admitted = 0  # requests between admission and the end of their generation (event-loop thread only)
        self._shutdown = threading.Event()

    @property
    def served_name(self) -> str:
        return self.source.served_name

    # ------------------------------------------------------------------ lifecycle

    def start_loading(self) -> None:
        """Queue the model load as the worker's first job; returns at once."""
        if self._load is None:
            self._load = self._executor.submit(self._load_model)

    def _load_model(self) -> LoadedChatModel | LlamaChatModel:
        from servers.local.catalog import resolve_runtime

        if resolve_runtime(self.source, self.limits.runtime) == "llama.cpp":
            return load_llama_model(self.source, self.limits.threads, self.limits.context_tokens)
        return load_chat_model(self.source, self.limits.threads, self.cache_root)

    def health(self) -> HealthResponse:
        if self._load is None or not self._load.done():
            return HealthResponse(status="loading", model=self.served_name)
        error = self._load.exception()
        if error is not None:
            return HealthResponse(status="failed", model=self.served_name, error=str(error))
        return HealthResponse(status="ok", model=self.served_name)

    def loaded(self) -> LoadedChatModel | LlamaChatModel:
        """The loaded model; raises 503 if loading failed. Call on the worker thread (after the load job)."""
        if self._load is None:
            raise model_failed("loading was never started")
        try:
            return self._load.result()
        except Exception as error:
            raise model_failed(str(error)) from error

    def shutdown(self) -> None:
        """Stop generating (the running answer ends after its current token) and drop queued work."""
        self._shutdown.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ requests

    async def complete(self, request: ChatCompletionRequest) -> tuple[ChatCompletionResponse, RenderedPrompt]:
        """A whole (non-streamed) completion."""
        prepared = await self._admit_and_prepare(request)
        pieces: list[str] = []
        cancel = threading.Event()
        try:
            outcome = await self._start_generation(prepared, pieces.append, cancel)
        finally:
            cancel.set()  # if the client went away, the awaiting task was cancelled: stop generating for it
        response = completion_response(
            self._answer_format(prepared), "".join(pieces), outcome.finish_reason, _usage(prepared, outcome)
        )
        return response, prepared.rendered

    async def open_stream(self, request: ChatCompletionRequest) -> tuple[AsyncIterator[str], RenderedPrompt]:
        """Admit and prepare now (so errors are still HTTP errors), then stream server-sent events."""
        prepared = await self._admit_and_prepare(request)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancel = threading.Event()

        def on_text(piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, piece)

        generation = self._start_generation(prepared, on_text, cancel)
        generation.add_done_callback(lambda _: queue.put_nowait(_END))

        async def pieces() -> AsyncIterator[str]:
            while (piece := await queue.get()) is not _END:
                yield str(piece)

        def outcome() -> tuple[FinishReason, Usage]:
            result = generation.result()
            return result.finish_reason, _usage(prepared, result)

        async def events() -> AsyncIterator[str]:
            try:
                async for event in completion_events(self._answer_format(prepared), pieces(), outcome):
                    yield event
            finally:
                cancel.set()  # the client may have disconnected: stop generating for it

        return events(), prepared.rendered

    def _answer_format(self, prepared: PreparedRequest) -> AnswerFormat:
        options = prepared.request.stream_options
        return AnswerFormat(
            model=self.served_name,
            tools_enabled=prepared.request.tools_enabled,
            assistant_prefix=prepared.rendered.assistant_prefix,
            include_usage=options is not None and options.include_usage,
            tool_names=tuple(tool.function.name for tool in prepared.request.tools or []),
        )

    # ------------------------------------------------------------------ admission and the worker

    async def _admit_and_prepare(self, request: ChatCompletionRequest) -> PreparedRequest:
        if request.model != self.served_name:
            raise model_not_found(request.model, self.served_name)
        if self._admitted >= self.limits.max_queue + 1:  # one generating, max_queue waiting
            raise server_busy(self._admitted - 1)
        self._admitted += 1
        try:
            return await self._on_worker(self._prepare, request)
        except BaseException:
            self._admitted -= 1
            raise

    def _start_generation(
        self, prepared: PreparedRequest, on_text: Callable[[str], None], cancel: threading.Event
    ) -> asyncio.Future[GenerationOutcome]:
        """Queue the generation; the admission slot is released when it ends, however it ends."""
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, self._generate_blocking, prepared, on_text, cancel
        )
        future.add_done_callback(lambda _: self._release())
        return future

    def _release(self) -> None:
        self._admitted -= 1

    async def _on_worker(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        except RuntimeError as error:  # the executor is shut down
            raise APIError(503, "the server is shutting down", type="server_error", code="shutting_down") from error

    def _prepare(self, request: ChatCompletionRequest) -> PreparedRequest:
        """Worker thread: render the chat template, tokenize, and fit the answer into the context window."""
        loaded = self.loaded()
        grammar = None
        if isinstance(loaded, LlamaChatModel):
            rendered = loaded.render(request)
            prompt_ids: Any = loaded.tokenize(rendered.text)
            prompt_tokens = len(prompt_ids)
            grammar = loaded.grammar(request.response_format)
        else:
            if request.response_format and request.response_format.get("type") not in (None, "text"):
                raise invalid_request(
                    "this server runs its model with transformers, which cannot constrain decoding; "
                    "response_format needs the llama.cpp runtime",
                    param="response_format",
                )
            rendered = render_prompt(loaded.tokenizer, request, template_takes_tools=loaded.template_takes_tools)
            prompt_ids = loaded.tokenizer(rendered.text, add_special_tokens=False, return_tensors="pt")["input_ids"]
            prompt_tokens = int(prompt_ids.shape[1])
        if rendered.images_dropped:
            log.warning(
                "%s is a text-only model: %d image part(s) replaced by [image]",
                self.served_name,
                rendered.images_dropped,
            )
        room = loaded.context_tokens - prompt_tokens
        requested = request.requested_max_tokens
        if requested is None:
            requested = min(self.limits.default_max_tokens, room)
        if room <= 0 or requested > room:
            raise invalid_request(
                f"the prompt has {prompt_tokens} tokens and {requested} more were asked for, but this model's "
                f"context holds {loaded.context_tokens} tokens; shorten the messages or lower max_tokens",
                param="messages",
                code="context_length_exceeded",
            )
        sampling = SamplingSettings(
            max_new_tokens=requested,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            stop=request.stop_sequences + forced_call_stop(request),
            repetition_penalty=1.0 + max(request.frequency_penalty, request.presence_penalty, 0.0) / 2.0,
        )
        return PreparedRequest(request, rendered, prompt_ids, sampling, grammar)

    def _generate_blocking(
        self, prepared: PreparedRequest, on_text: Callable[[str], None], cancel: threading.Event
    ) -> GenerationOutcome:
        if prepared.request.tools_enabled:
            on_text = _stopping_after_tool_calls(on_text, prepared.rendered.assistant_prefix, cancel)

        def should_stop() -> bool:
            return cancel.is_set() or self._shutdown.is_set()

        loaded = self.loaded()
        if isinstance(loaded, LlamaChatModel):
            outcome = loaded.generate(prepared.prompt_ids, prepared.sampling, on_text, should_stop, prepared.grammar)
        else:
            outcome = generate_pieces(loaded, prepared.prompt_ids, prepared.sampling, on_text, should_stop)
        log.info(
            "answered %d prompt tokens with %d tokens in %.2f s (%.1f tokens/s, first token after %s s)",
            prepared.prompt_tokens,
            outcome.completion_tokens,
            outcome.total_s,
            outcome.tokens_per_s,
            f"{outcome.first_token_s:.2f}" if outcome.first_token_s is not None else "-",
        )
        return outcome


def _stopping_after_tool_calls(
    on_text: Callable[[str], None], prefix: str, cancel: threading.Event
) -> Callable[[str], None]:
    """``on_text`` that also ends generation once the answer's tool calls are complete (see
    ``tool_calls_finished``): small models ramble on after a call, and that text would be dropped anyway."""
    answer = [prefix]

    def forward(piece: str) -> None:
        answer.append(piece)
        on_text(piece)
        if tool_calls_finished("".join(answer)):  # a few hundred short pieces at most: joining is cheap
            cancel.set()

    return forward


def _usage(prepared: PreparedRequest, outcome: GenerationOutcome) -> Usage:
    return Usage(
        prompt_tokens=prepared.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        total_tokens=prepared.prompt_tokens + outcome.completion_tokens,
    )
