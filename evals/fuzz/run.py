"""The fuzz run over Mien's media readers: N mutants per format, each read in a child process under limits.

``python -m evals.fuzz.run --per-format 500 --out out/fuzz`` mutates the seeds of ``evals.fuzz.seeds`` (MP4, AVI,
WebM, WAV, JPEG, PNG; ``evals.fuzz.mutate``), hands each mutant to a worker process (``evals.fuzz.worker``) running
under an address-space limit, and classifies what happened: read (perhaps with a damage warning), refused with one
of Mien's own errors (fine), ``memory`` (the limit was hit: to fix), ``hang`` (no answer within the time limit: to
fix; the worker is killed and restarted), ``signal`` (the worker died, e.g. a segfault in a decoder: to fix) or
``crash`` (any other exception: to fix). Every mutant that is not fine is kept under ``<out>/findings`` with what
was done to it, to reproduce; the report (``<out>/report.json``) counts inputs, outcomes and distinct error kinds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.fuzz.mutate import mutate
from evals.fuzz.seeds import FORMATS, make_seeds

FINE = ("ok", "ok-damaged", "mien")


@dataclass
class FuzzReport:
    """What a fuzz run found. ``kinds`` counts distinct outcome kinds (error class and normalised message)."""

    inputs: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_format: dict[str, Counter[str]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(count for outcome, count in self.outcomes.items() if outcome not in FINE)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "inputs": self.inputs,
            "seconds": self.seconds,
            "outcomes": dict(self.outcomes),
            "by_format": {kind: dict(counts) for kind, counts in self.by_format.items()},
            "kinds": dict(self.kinds),
            "findings": self.findings,
        }
        data["problems"] = self.problems
        data["distinct_error_kinds"] = len([k for k in self.kinds if not k.startswith(("read", "damaged"))])
        return data


class Worker:
    """One worker process; restarted after a hang or a death."""

    def __init__(self, memory_mb: int, startup_timeout_s: float = 120.0) -> None:
        env = {**os.environ, "MIEN_FUZZ_MEMORY_MB": str(memory_mb), "OMP_NUM_THREADS": "1", "GLOG_minloglevel": "2"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "evals.fuzz.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        if self._answer(startup_timeout_s) is None:
            self.close()
            raise RuntimeError("the fuzz worker did not start")

    def _answer(self, timeout_s: float) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            return None
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def read(self, index: int, path: Path, timeout_s: float) -> dict[str, Any]:
        """The worker's answer for ``path``, or a ``hang``/``signal`` outcome (the worker is then gone)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{index}\t{path}\n")
        self.process.stdin.flush()
        answer = self._answer(timeout_s)
        if answer is not None:
            return answer
        if self.process.poll() is None:
            self.close()
            return {"index": index, "outcome": "hang", "kind": f"hang: no answer within {timeout_s:g} s"}
        code = self.process.returncode
        return {"index": index, "outcome": "signal", "kind": f"worker died (exit status {code})"}

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def run_fuzz(
    out: Path,
    per_format: int,
    *,
    formats: tuple[str, ...] = FORMATS,
    seed: int = 16,
    timeout_s: float = 20.0,
    memory_mb: int = 1536,
) -> FuzzReport:
    """Fuzz ``per_format`` mutants of each format in ``formats``; findings and the report go under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds(out / "seeds", formats)
    rng = random.Random(seed)
    report = FuzzReport()
    started = time.perf_counter()
    worker = Worker(memory_mb)
    mutants = out / "mutants"
    mutants.mkdir(exist_ok=True)
    try:
        for kind in formats:
            counts = report.by_format.setdefault(kind, Counter())
            for _ in range(per_format):
                index = report.inputs
                data, how = mutate(seeds[kind], rng)
                path = mutants / f"{index:06d}.{kind}"
                path.write_bytes(data)
                if not worker.alive:
                    worker = Worker(memory_mb)
                answer = worker.read(index, path, timeout_s)
                report.inputs += 1
                report.outcomes[answer["outcome"]] += 1
                counts[answer["outcome"]] += 1
                report.kinds[answer["kind"]] += 1
                if answer["outcome"] in FINE:
                    path.unlink()
                    continue
                kept = out / "findings" / path.name
                kept.parent.mkdir(exist_ok=True)
                path.replace(kept)
                report.findings.append({**answer, "file": str(kept), "format": kind, "mutation": how})
    finally:
        worker.close()
    report.seconds = round(time.perf_counter() - started, 1)
    tmp = out / "report.json.tmp"
    tmp.write_text(json.dumps(report.to_dict(), indent=1, default=str))
    tmp.replace(out / "report.json")
    return report


def summary(report: FuzzReport) -> str:
    """The run as a few lines: inputs, outcomes per format, distinct error kinds, problems."""
    lines = [
        f"{report.inputs} inputs in {report.seconds:.0f} s; problems (crash/hang/memory/signal): {report.problems}"
    ]
    for kind, counts in report.by_format.items():
        lines.append(f"  {kind:5s} " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    errors = {k: v for k, v in report.kinds.items() if not k.startswith(("read", "damaged"))}
    lines.append(f"{len(errors)} distinct error kinds:")
    lines += [f"  {count:5d}  {kind}" for kind, count in sorted(errors.items(), key=lambda item: -item[1])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-format", type=int, default=200)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout-s", type=float, default=20.0)
    parser.add_argument("--memory-mb", type=int, default=1536)
    parser.add_argument("--out", type=Path, default=Path("out/fuzz"))
    args = parser.parse_args()
    formats = tuple(name.strip() for name in args.formats.split(",") if name.strip())
    report = run_fuzz(
        args.out, args.per_format, formats=formats, seed=args.seed, timeout_s=args.timeout_s, memory_mb=args.memory_mb
    )
    print(summary(report))


if __name__ == "__main__":
    main()
