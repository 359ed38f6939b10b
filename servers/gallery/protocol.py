"""The gallery server's HTTP schemas: the ``tools.encrypted.messages`` models, plus health and errors.

The message models live in ``tools.encrypted`` because the in-process engine and the HTTP client use them too;
this module is the one place that names everything the HTTP API accepts and answers.
"""

from __future__ import annotations

from typing import Literal

from tools.encrypted.messages import (
    EnrollRequest,
    ErrorBody,
    ErrorResponse,
    FetchRequest,
    FetchResponse,
    GalleryInfo,
    InitRequest,
    LayoutResponse,
    MutationResponse,
    PreselectRequest,
    PreselectResponse,
    RemoveRequest,
    ScoreRequest,
    ScoreResponse,
    WireModel,
)

__all__ = [
    "EnrollRequest",
    "ErrorBody",
    "ErrorResponse",
    "FetchRequest",
    "FetchResponse",
    "GalleryInfo",
    "HealthReport",
    "InitRequest",
    "LayoutResponse",
    "MutationResponse",
    "PreselectRequest",
    "PreselectResponse",
    "RemoveRequest",
    "ScoreRequest",
    "ScoreResponse",
]


class HealthReport(WireModel):
    """``GET /health``: the server is up; whether its gallery exists and how many templates it holds."""

    status: Literal["ok"] = "ok"
    initialized: bool
    templates: int
