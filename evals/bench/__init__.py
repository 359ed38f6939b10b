"""Benchmarks: each prints its numbers and ratios against a baseline measured in the same run.

Each runs as ``python -m evals.bench.<name>`` through ``run_bench``, which keeps the terminal as clean as ``mien``
keeps it: C++ libraries' log lines (MediaPipe, TFLite, absl) and model-loading progress bars are not shown
(``MIEN_NATIVE_LOGS=1`` shows them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def run_bench(main: Callable[[], int | None]) -> None:
    """Run a benchmark's ``main`` with native log lines filtered off stderr, and exit with its code."""
    from tools.native_stderr import NativeStderrFilter

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if os.environ.get("MIEN_NATIVE_LOGS") == "1":
        sys.exit(main() or 0)
    with NativeStderrFilter():
        code = main()
    sys.exit(code or 0)
