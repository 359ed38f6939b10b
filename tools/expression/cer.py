"""Zero-shot compound expression recognition (CER) for one segment: fuse the modalities, then pair them up.

``recognize_compound`` takes whatever modalities are available for a segment (static face, dynamic face, CLIP,
scene text, audio, transcript; any may be missing), fuses them with Multi-Head Probability Fusion into basic
probabilities (7,), and turns those into probabilities over the 7 C-EXPR-DB compound classes with PPA. When a
segment embedding and label embeddings in the same space are given (CLIP image vs prompts, or transcript vs
prompts), PFSA is computed as well. The result is one typed, JSON-serialisable ``CompoundExpressionResult``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tools.expression.compound import (
    CompoundProbabilities,
    PFSAConfig,
    PPAConfig,
    label_embedding_matrix,
    pfsa,
    ppa,
)
from tools.expression.fusion import FusedProbabilities, FusionWeights, MultiHeadProbabilityFusion
from tools.expression.modality import MODALITY_NAMES, ModalityProbabilities, check_modality_name
from tools.settings import get_settings

CompoundMethod = Literal["ppa", "pfsa"]


@dataclass(frozen=True, eq=False)
class FeatureSimilarityInput:
    """What PFSA needs: a segment embedding (D,) and the basic labels' embeddings (7, D) in the same space.

    ``source`` names the space, e.g. ``"clip"`` (image vs prompt embeddings) or ``"transcript"`` (MiniLM).
    """

    segment_embedding: np.ndarray
    label_embeddings: np.ndarray
    source: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "segment_embedding", np.asarray(self.segment_embedding, dtype=np.float64))
        object.__setattr__(self, "label_embeddings", label_embedding_matrix(self.label_embeddings))


@dataclass(frozen=True)
class CERConfig:
    """How compounds are formed. ``primary`` picks which transformation ``compound`` reports; PFSA falls back
    to PPA for segments without embeddings."""

    ppa: PPAConfig = field(default_factory=PPAConfig)
    pfsa: PFSAConfig = field(default_factory=PFSAConfig)
    primary: CompoundMethod = "ppa"


@dataclass(frozen=True, eq=False)
class CompoundExpressionResult:
    """Fused basic probabilities (7,) and compound probabilities (7,) for one segment, with their provenance."""

    fused: FusedProbabilities
    modalities: tuple[ModalityProbabilities, ...]
    ppa: CompoundProbabilities
    pfsa: CompoundProbabilities | None
    primary: CompoundMethod
    start_s: float | None = None
    end_s: float | None = None

    @property
    def basic_probabilities(self) -> np.ndarray:
        return self.fused.probabilities

    @property
    def compound(self) -> CompoundProbabilities:
        """The primary compound result (PPA, or PFSA when configured and available)."""
        return self.pfsa if self.primary == "pfsa" and self.pfsa is not None else self.ppa

    @property
    def top_basic(self) -> str:
        return self.fused.top_label

    @property
    def top_compound(self) -> str:
        return self.compound.top_label

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "basic": self.fused.to_dict(),
            "compound": {
                "primary": self.primary,
                "top": self.top_compound,
                "ppa": self.ppa.to_dict(),
                "pfsa": None if self.pfsa is None else self.pfsa.to_dict(),
            },
            "modalities": [m.to_dict() for m in self.modalities],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def default_fusion() -> MultiHeadProbabilityFusion:
    """Fusion with the fitted weights named by ``MIEN_CER_FUSION_WEIGHTS``, or uniform weights when unset."""
    path = get_settings().cer_fusion_weights
    return MultiHeadProbabilityFusion(FusionWeights.load(path) if path is not None else FusionWeights.uniform())


def _as_modality_list(modalities: Iterable[ModalityProbabilities] | Mapping[str, Any]) -> list[ModalityProbabilities]:
    if isinstance(modalities, Mapping):
        return [
            ModalityProbabilities.missing(name)
            if vector is None
            else ModalityProbabilities(check_modality_name(name), np.asarray(vector))
            for name, vector in modalities.items()
        ]
    return list(modalities)


def recognize_compound(
    modalities: Iterable[ModalityProbabilities] | Mapping[str, Any],
    *,
    fusion: MultiHeadProbabilityFusion | None = None,
    similarity: FeatureSimilarityInput | None = None,
    config: CERConfig | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> CompoundExpressionResult:
    """Fused basic and compound probabilities for one segment.

    ``modalities``: ``ModalityProbabilities`` (present or missing) or a mapping ``name -> (7,) vector or None``;
    modalities not given count as missing. Raises ``NoModalityError`` when none is present.
    """
    config = config or CERConfig()
    fusion = fusion or default_fusion()
    items = _as_modality_list(modalities)
    fused = fusion.fuse(items)
    given = {m.modality for m in items}
    echoed = tuple(items) + tuple(ModalityProbabilities.missing(name) for name in MODALITY_NAMES if name not in given)
    order = {name: i for i, name in enumerate(MODALITY_NAMES)}
    echoed = tuple(sorted(echoed, key=lambda m: order[m.modality]))
    ppa_result = ppa(fused.probabilities, config.ppa)
    pfsa_result = None
    if similarity is not None:
        pfsa_result = pfsa(similarity.segment_embedding, similarity.label_embeddings, config.pfsa)
        pfsa_result = CompoundProbabilities(
            "pfsa",
            pfsa_result.scores,
            pfsa_result.probabilities,
            pfsa_result.degenerate,
            pfsa_result.settings | {"embedding_source": similarity.source},
        )
    primary: CompoundMethod = "pfsa" if config.primary == "pfsa" and pfsa_result is not None else "ppa"
    return CompoundExpressionResult(fused, echoed, ppa_result, pfsa_result, primary, start_s, end_s)
