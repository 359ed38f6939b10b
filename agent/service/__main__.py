"""``python -m agent.service``: run the resident Mien service in the foreground (``mien service start`` spawns it)."""

from __future__ import annotations

import logging
import os
import sys

from agent.service.process import run_service


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run_service()


if __name__ == "__main__":
    sys.exit(main())
