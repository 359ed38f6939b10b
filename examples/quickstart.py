"""The README's quick start: ask the agent about the shipped example clip, on the embedded model.

    python examples/quickstart.py                       # "How do the people in this clip feel?"
    python examples/quickstart.py "What does she say?"  # any other question
    python examples/quickstart.py --json                # the answer as JSON

It is ``mien ask examples/interview.mp4 "<question>"``; the clip is rebuilt from package photos and espeak-ng
speech (``python -m evals.make_example``) if it is missing. Nothing is downloaded: the chat model, the face,
expression and speech models all ship inside installed packages.
"""

from __future__ import annotations

import sys

from agent.cli import main
from evals.make_example import EXAMPLE_PATH, build

DEFAULT_QUESTION = "How do the people in this clip feel?"


def run(argv: list[str]) -> int:
    """Run the quick start with ``argv`` (an optional question and ``mien ask`` options); returns the exit code."""
    options = [arg for arg in argv if arg.startswith("--")]
    words = [arg for arg in argv if not arg.startswith("--")]
    clip = EXAMPLE_PATH if EXAMPLE_PATH.is_file() else build()
    return main(["ask", str(clip), " ".join(words) or DEFAULT_QUESTION, *options])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
