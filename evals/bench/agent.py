"""Benchmark: time to the first answer token and to the full answer of ``mien ask`` on a 10 s clip, on the embedded
model (``MIEN_LLM_EMBEDDED``: Qwen2.5-Coder-0.5B on llama.cpp by default; ``smollm2-135m`` is the old default).

``python -m evals.bench.agent answers [...]`` runs the other agent benchmark instead: 20 questions answered by
the old and the new default, with grounding rate, label agreement and latency (``evals/bench/agent_answers.py``).

Four runs, all in this one invocation, so that the ratios compare like with like on the same machine:

* ``cli cold``: ``mien ask`` as a new process with an empty ``MIEN_HOME`` — imports, the embedded server's start,
  every tool on the clip, then the answer. What a user sees the first time.
* ``cli cached``: the same command again with the same ``MIEN_HOME``: the evidence is cached, the server still
  starts (it is stopped when ``mien ask`` exits).
* ``warm uncached`` / ``warm cached``: one process, the server already up and the models loaded; a fresh evidence
  cache against a cached one. This isolates the tools' share from the model's.

Time to first token is when the first byte of the streamed explanation arrives (stdout for the CLI; the token
callback in-process). Ratios are printed against the cold CLI run.

    python -m evals.bench.agent [--repeats 2] [--max-tokens 64] [--question "..."]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench import run_bench

DEFAULT_QUESTION = "How do the people in this clip feel?"


def cli_run(clip: Path, question: str, home: Path, max_tokens: int) -> dict[str, float]:
    """One ``mien ask`` process: seconds to the first stdout byte (the first token) and to its exit."""
    env = dict(os.environ, MIEN_HOME=str(home), MIEN_AGENT_ANSWER_MAX_TOKENS=str(max_tokens), MIEN_TORCH_THREADS="1")
    env.pop("MIEN_LLM_BASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "ask", str(clip), question],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    first = process.stdout.read(1)
    first_token_s = time.perf_counter() - started
    process.stdout.read()
    code = process.wait()
    if code != 0 or not first:
        raise RuntimeError(f"mien ask exited with {code}")
    return {"first_token_s": first_token_s, "total_s": time.perf_counter() - started}


def warm_runs(clip: Path, question: str, homes: list[Path], max_tokens: int) -> dict[str, list[dict[str, float]]]:
    """In one process with the server up: each home once uncached, then once more cached (a new thread)."""
    os.environ["MIEN_AGENT_ANSWER_MAX_TOKENS"] = str(max_tokens)
    from agent.model import ChatEndpoint
    from agent.session import AgentSession, open_threads, use_torch_threads
    from servers.local.process import LocalServer
    from tools.settings import get_settings

    results: dict[str, list[dict[str, float]]] = {"warm uncached": [], "warm cached": []}
    with LocalServer() as server:
        endpoint = ChatEndpoint(server.base_url, server.model_name, "none", False, False, embedded=True)
        warmed = False
        for home in homes:
            os.environ["MIEN_HOME"] = str(home)
            get_settings.cache_clear()
            settings = get_settings()
            use_torch_threads(settings)
            with open_threads(settings) as saver:
                session = AgentSession.for_endpoint(endpoint, settings, saver)
                if not warmed:  # load the tools' models once, on another file, outside the timings
                    from evals.samples import group_photo_path

                    session.ask("How does everyone feel?", [group_photo_path()], "warm-up")
                    warmed = True
                for label, thread in (("warm uncached", "a"), ("warm cached", "b")):
                    results[label].append(_timed_ask(session, clip, question, thread))
    return results


def _timed_ask(session: object, clip: Path, question: str, thread: str) -> dict[str, float]:
    from agent.session import AgentSession

    assert isinstance(session, AgentSession)
    first: list[float] = []

    def on_token(_: str) -> None:
        if not first:
            first.append(time.perf_counter())

    started = time.perf_counter()
    answer = session.ask(question, [clip], thread, on_token=on_token)
    total = time.perf_counter() - started
    if answer.error or not first:
        raise RuntimeError(f"no streamed answer: {answer.error}")
    return {"first_token_s": first[0] - started, "total_s": total}


def main() -> None:
    if sys.argv[1:2] == ["answers"]:
        from evals.bench.agent_answers import main as answers

        sys.argv.pop(1)
        answers()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96, help="Answer length (MIEN_AGENT_ANSWER_MAX_TOKENS).")
    parser.add_argument("--question", default=DEFAULT_QUESTION)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from evals.make_example import SECONDS, build

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clip = build(root / "interview.mp4")
        runs: dict[str, list[dict[str, float]]] = {"cli cold": [], "cli cached": []}
        for repeat in range(args.repeats):
            home = root / f"cli-home-{repeat}"
            runs["cli cold"].append(cli_run(clip, args.question, home, args.max_tokens))
            runs["cli cached"].append(cli_run(clip, args.question, home, args.max_tokens))
        runs.update(warm_runs(clip, args.question, [root / f"warm-{r}" for r in range(args.repeats)], args.max_tokens))

    medians = {
        name: {key: statistics.median(run[key] for run in items) for key in ("first_token_s", "total_s")}
        for name, items in runs.items()
    }
    base = medians["cli cold"]
    print(
        f"mien ask on a {SECONDS:.0f} s clip, embedded {os.environ.get('MIEN_LLM_EMBEDDED', 'default model')}, "
        f"{args.max_tokens} answer tokens, "
        f"median of {args.repeats}"
    )
    print(f"{'run':<15}{'first token s':>15}{'full answer s':>15}{'first/cold':>12}{'full/cold':>11}")
    for name, value in medians.items():
        print(
            f"{name:<15}{value['first_token_s']:>15.2f}{value['total_s']:>15.2f}"
            f"{value['first_token_s'] / base['first_token_s']:>12.2f}{value['total_s'] / base['total_s']:>11.2f}"
        )
    print(json.dumps({"medians": medians, "runs": runs}, indent=None))


if __name__ == "__main__":
    run_bench(main)
