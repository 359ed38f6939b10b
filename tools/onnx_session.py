"""One way to open an ONNX model on the CPU, shared by every ONNX backend (expression, action units, ArcFace, ...).

Why one place: thread count comes from the settings (so two backends never oversubscribe the cores), onnxruntime's
own log lines stay out of the user's terminal, and an unreadable graph is always the same clear error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.errors import ModelUnavailableError
from tools.settings import get_settings


def cpu_session(path: str | Path, what: str, providers: Sequence[str] | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` for the model at ``path``.

    ``what`` names the model in errors ("ONNX expression model"). Raises ``ModelUnavailableError`` when onnxruntime
    cannot load the file.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = get_settings().torch_threads
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=list(providers or ["CPUExecutionProvider"]))
    except Exception as error:  # onnxruntime raises its own untyped exceptions for unreadable graphs
        raise ModelUnavailableError(f"onnxruntime cannot load {what} {path}: {error}") from error
