"""Import mediapipe's legacy solutions with its C++ logging turned down (it prints to stderr on every graph)."""

from __future__ import annotations

import os
from types import ModuleType


def solutions() -> ModuleType:
    """``mediapipe.solutions``, imported lazily so that modules not using mediapipe stay light."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import mediapipe as mp

    return mp.solutions
