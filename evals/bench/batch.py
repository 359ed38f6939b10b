"""Batch analysis on Ray against a plain sequential loop, and an interrupted run resumed.

    python -m evals.bench.batch [--clips 50] [--workers 2] [--tools faces] [--kill-after 12] [--keep DIR]

1. Composes ``--clips`` short clips from real photos (``evals.clips``: the astronaut, the six people of
   insightface's t1.jpg and Tom Hanks, panning/zooming alone or two crossing), 2 s at 10 fps, 640x360.
2. Baseline: a plain loop in this process calling ``tools.batch.analyse_file`` (the function each Ray task runs)
   on every clip, one after the other; files per second.
3. ``run_batch`` on a local Ray with ``--workers`` workers over the same clips, from Ray start to the last result;
   files per second and the ratio to the baseline. Both count model loading (once in the loop, once per Ray
   worker) as a user would see it; the warm rates (after the first file per worker) leave start-up out. On a
   shared machine the load average printed alongside matters: two workers cannot beat one on busy CPUs.
4. ``mien batch`` in a subprocess, killed with SIGKILL (no chance to clean up) once ``--kill-after`` results are
   in RESULTS; then the same run resumed: how many files it found done, how many it analysed, whether any file
   has two rows (redone) and whether the rows written before the kill are unchanged.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from evals import clips
from evals.bench import run_bench
from tools.batch import analyse_file, collect_inputs, parse_tools, read_results, run_batch


def compose(folder: Path, count: int) -> list[Path]:
    """``count`` 2 s clips: one person panning and zooming (8 photos in turn) or two people crossing."""
    folder.mkdir(parents=True, exist_ok=True)
    people = [clips.astronaut_head, clips.tom_hanks, *[(lambda i=i: clips.group_person(i)) for i in range(6)]]
    made = []
    for index in range(count):
        path = folder / f"clip-{index:03d}.mp4"
        if not path.exists():
            if index % 5 == 4:
                clips.crossing_clip(path, seconds=2.0, left=people[index % 8](), right=people[(index + 3) % 8]())
            else:
                clips.pan_zoom_clip(path, seconds=2.0, image=people[index % 8]())
        made.append(path)
    return made


def _stored_rows(out: Path) -> int:
    try:
        return len(read_results(out)) if out.exists() else 0
    except Exception:  # a part renamed into place while we list: count again next time
        return -1


def interrupted_then_resumed(folder: Path, out: Path, tools_text: str, workers: int, kill_after: int) -> None:
    command = [
        sys.executable,
        "-m",
        "agent.cli",
        "batch",
        str(folder),
        "--out",
        str(out),
        "--tools",
        tools_text,
        "--workers",
        str(workers),
        "--flush-every",
        "1",
        "--json",
    ]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    started = time.perf_counter()
    while _stored_rows(out) < kill_after and child.poll() is None:
        time.sleep(0.5)
    os.killpg(child.pid, signal.SIGKILL)  # the driver and the local Ray it started, at once
    child.wait()
    before = {r.key: r for r in read_results(out)}
    print(f"interrupted run: SIGKILL after {time.perf_counter() - started:.1f} s with {len(before)} files in RESULTS")
    report = run_batch([folder], out, parse_tools(tools_text), workers=workers)
    after = read_results(out)
    redone = sum(n - 1 for n in Counter(r.key for r in after).values())
    unchanged = sum(1 for r in after if r.key in before and r == before[r.key])
    print(
        f"resumed run: {report.already_done} files found done, {report.analysed} analysed now "
        f"({report.ok} ok, {report.errors} errors) in {report.seconds:.1f} s; {len(after)} rows for "
        f"{len({r.key for r in after})} files, {redone} files redone, {unchanged}/{len(before)} earlier rows unchanged"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tools", default="faces")
    parser.add_argument("--kill-after", type=int, default=12)
    parser.add_argument("--keep", type=Path, default=None, help="Keep (and reuse) the composed clips here.")
    args = parser.parse_args()
    tools = parse_tools(args.tools)
    with tempfile.TemporaryDirectory(prefix="mien-batch-bench-") as scratch:
        folder = args.keep or Path(scratch) / "clips"
        started = time.perf_counter()
        files = compose(folder, args.clips)
        print(
            f"{len(files)} clips composed in {time.perf_counter() - started:.1f} s; tools: {','.join(tools)}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )

        started = time.perf_counter()
        sequential, loop_done = [], []
        for path in collect_inputs([folder]):
            sequential.append(analyse_file(path, tools))
            loop_done.append(time.perf_counter())
        loop_s = loop_done[-1] - started
        loop_warm = (len(loop_done) - 1) / (loop_done[-1] - loop_done[0])
        print(
            f"sequential loop: {len(sequential)} files in {loop_s:.1f} s = {len(sequential) / loop_s:.3f} files/s "
            f"({sum(r.status == 'ok' for r in sequential)} ok); after the first file (models loaded): "
            f"{loop_warm:.3f} files/s"
        )

        ray_done: list[float] = []
        report = run_batch(
            [folder],
            Path(scratch) / "ray",
            tools,
            workers=args.workers,
            on_result=lambda *_: ray_done.append(time.perf_counter()),
        )
        warm_from = min(report.workers, len(ray_done) - 1)  # every worker has loaded its models by then
        ray_warm = (len(ray_done) - 1 - warm_from) / (ray_done[-1] - ray_done[warm_from])
        print(
            f"Ray, {report.workers} workers: {report.analysed} files in {report.seconds:.1f} s = "
            f"{report.analysed / report.seconds:.3f} files/s ({report.ok} ok) = "
            f"{loop_s / report.seconds:.2f}x the sequential loop, Ray start and model loading included; "
            f"after {warm_from} files: {ray_warm:.3f} files/s = {ray_warm / loop_warm:.2f}x the warm loop; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        ray_rows = {Path(r.path).name: r.faces.people for r in read_results(Path(scratch) / "ray") if r.faces}
        loop_rows = {Path(r.path).name: r.faces.people for r in sequential if r.faces}
        print(
            f"face counts equal to the loop's on {sum(ray_rows[k] == v for k, v in loop_rows.items())}"
            f"/{len(loop_rows)} files"
        )

        interrupted_then_resumed(folder, Path(scratch) / "resumed", ",".join(tools), args.workers, args.kill_after)


if __name__ == "__main__":
    run_bench(main)
