"""Import mediapipe's legacy solutions with its C++ logging turned down (it prints to stderr on every graph).

``GLOG_minloglevel`` quiets glog, but absl and TFLite ignore it and write to file descriptor 2 directly; the import
itself runs with fd 2 silenced, and the ``mien`` command filters the lines graphs print later
(``tools.native_stderr.NativeStderrFilter``).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from tools.native_stderr import silenced_fd2


def solutions() -> ModuleType:
    """``mediapipe.solutions``, imported lazily so that modules not using mediapipe stay light."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "mediapipe" not in sys.modules:
        with silenced_fd2():
            import mediapipe  # noqa: F401
    import mediapipe as mp

    return mp.solutions
