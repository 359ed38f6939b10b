"""`mien ask` on a 10 s clip, cold against warm, for the old and the new embedded chat model.

cold: a fresh `mien ask` process with no service (``MIEN_SERVICE=off``) and an empty home (no cached evidence), so
it starts the chat model, loads the perception models and runs the tools. warm: the resident service is running
(started and loaded beforehand, not timed) and the evidence is cached (one untimed ask first), so the timed
`mien ask` only connects, plans and answers. Each timed run is a real `mien ask` subprocess; "first text" is the
first byte of the answer on stdout (tool progress goes to stderr), "full" the process's whole wall time.

The baseline of each ratio is the cold run of the same model, measured in the same run. On a shared machine the
numbers are pessimistic (the script prints the load average before and after).

    python -m evals.bench.warm_start [--models new,old] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals import clips
from evals.bench import run_bench

QUESTION = "How does the person feel, and why?"
MODELS = {
    "new": {"MIEN_LLM_EMBEDDED": "qwen2.5-coder-0.5b", "MIEN_LLM_RUNTIME": "auto"},
    "old": {"MIEN_LLM_EMBEDDED": "smollm2-135m", "MIEN_LLM_RUNTIME": "transformers"},
}


def _env(home: Path, extra: dict[str, str], service: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIEN_")}
    env.update(extra, MIEN_HOME=str(home), MIEN_SERVICE=service, MIEN_SERVICE_DIR=str(home / "run"))
    return env


def timed_ask(env: dict[str, str], clip: Path) -> tuple[float | None, float, int]:
    """(seconds to the first answer byte on stdout, seconds to exit, exit code) of one `mien ask`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "ask", str(clip), QUESTION],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    first = process.stdout.read(1)
    first_s = time.perf_counter() - started if first else None
    process.stdout.read()
    code = process.wait()
    return first_s, time.perf_counter() - started, code


def _mien(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env, check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="new,old", help="comma-separated: new (Qwen2.5 GGUF), old (SmolLM2)")
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="mien-warm-") as scratch:
        clip = clips.pan_zoom_clip(Path(scratch) / "clip.mp4", seconds=args.seconds)
        print(f"clip: {args.seconds:g} s, {clip}\nquestion: {QUESTION!r}")
        print(f"{'model':5} {'run':5} {'first text s':>12} {'full s':>8} {'full / cold':>11} exit")
        for name in args.models.split(","):
            extra = MODELS[name]
            cold_home = Path(scratch) / f"{name}-cold"
            first, full, code = timed_ask(_env(cold_home, extra, "off"), clip)
            print(f"{name:5} {'cold':5} {first or float('nan'):12.1f} {full:8.1f} {1.0:11.2f} {code}", flush=True)
            warm_home = Path(scratch) / f"{name}-warm"
            warm_env = _env(warm_home, extra, "use")
            _mien(warm_env, "service", "start")
            try:
                timed_ask(warm_env, clip)  # fills the evidence cache (untimed)
                w_first, w_full, w_code = timed_ask(warm_env, clip)
            finally:
                _mien(warm_env, "service", "stop")
            ratio = w_full / full
            line = f"{name:5} {'warm':5} {w_first or float('nan'):12.1f} {w_full:8.1f} {ratio:11.2f} {w_code}"
            print(line, flush=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    run_bench(main)
