"""The model vLLM's CPU build serves by default: the packaged SmolLM2-135M-Instruct as a transformers folder.

vLLM loads Hugging Face folders; the embedded server already keeps a dequantized fp32 copy of the packaged GGUF
(``servers.local.loading``). That copy stores the tied input/output embedding once, as ``lm_head.weight``:
transformers re-ties it, but vLLM then leaves ``embed_tokens`` unloaded and answers with empty text (seen here).
So vLLM gets its own copy, under ``<MIEN_CACHE_DIR>/vllm/``, with ``model.embed_tokens.weight`` written out too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tools.settings import Settings

EMBED = "model.embed_tokens.weight"
HEAD = "lm_head.weight"


def packaged_model_folder(settings: Settings) -> Path:
    """A transformers folder of the packaged SmolLM2-135M-Instruct that vLLM loads whole (made once, atomically)."""
    from servers.local.loading import (
        ModelSource,
        dequantized_cache_root,
        gguf_cache_folder,
        load_chat_model,
        packaged_gguf_path,
    )

    source = ModelSource.resolve(packaged_gguf_path())
    root = dequantized_cache_root(settings)
    dequantized = gguf_cache_folder(source, root)
    if not (dequantized / "config.json").is_file() or not (dequantized / "model.safetensors").is_file():
        load_chat_model(source, threads=settings.llm_threads, cache_root=root)  # saves the folder
    folder = settings.cache_dir / "vllm" / dequantized.name
    if not (folder / "model.safetensors").is_file():
        _untied_copy(dequantized, folder)
    return folder


def _untied_copy(source: Path, folder: Path) -> None:
    """``source`` copied to ``folder`` with the embedding stored under both names (a temporary folder renamed)."""
    from safetensors.torch import load_file, save_file

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for path in source.iterdir():
            if path.name != "model.safetensors" and path.is_file():
                shutil.copy2(path, staging / path.name)
        tensors = load_file(str(source / "model.safetensors"))
        if EMBED not in tensors and HEAD in tensors:
            tensors[EMBED] = tensors[HEAD].clone()
        save_file(tensors, str(staging / "model.safetensors"), metadata={"format": "pt"})
        os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
