"""Batch analysis on Ray Data: one Ray task per file, results streamed back and stored as atomic parts.

Ray does the scheduling, retries and placement (on a cluster with ``ray_address``, or on a local Ray started
in-process); this module only decides which files still need doing, turns each returned row into a
``FileResult`` and appends finished results to RESULTS every ``flush_every`` results or ``flush_s`` seconds.
Interrupting a run (Ctrl-C) keeps everything already finished; the next run with the same RESULTS skips it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.batch.analyse import analyse_row
from tools.batch.store import ResultFormat, ResultStore
from tools.batch.types import BATCH_TOOLS, BatchReport, BatchTool, FileResult, result_key
from tools.errors import ConfigError, MienError

ResultCallback = Callable[[FileResult, int, int], None]
"""Called in the driver with (result, results so far in this run, files this run has to do)."""

# Results travel as small rows; the local object store need not take 30% of a shared machine's memory.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
_FORWARDED_ENV = ("GLOG_minloglevel", "HF_HUB_OFFLINE", "TF_CPP_MIN_LOG_LEVEL", "OMP_NUM_THREADS")


class BatchError(MienError):
    """The Ray cluster could not be reached or the run could not be carried out."""

    exit_code = 12


def parse_tools(text: str) -> tuple[BatchTool, ...]:
    """``"faces,emotions"`` -> ("faces", "emotions"); unknown names are a ``ConfigError`` listing the valid ones."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in BATCH_TOOLS]
    if unknown or not names:
        raise ConfigError(f"unknown tool(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(BATCH_TOOLS)}")
    return tuple(dict.fromkeys(names))  # type: ignore[arg-type]


def _worker_env() -> dict[str, str]:
    """What Ray workers need from this process: Mien importable from this checkout, and the MIEN_ settings."""
    import tools

    root = str(Path(tools.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if k.startswith("MIEN_") or k in _FORWARDED_ENV}
    env["PYTHONPATH"] = path
    return env


def _quiet_ray() -> None:
    """Keep Ray's and Ray Data's log lines and bars out of the user's terminal (they go to Ray's log files)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    warnings.filterwarnings("ignore", module="ray")
    import ray.data  # noqa: F401  (importing it installs Ray Data's console handler; quiet it afterwards)

    for name in ("ray", "ray.data", "ray._private", "ray.util"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast, in one line, for a host:port nobody listens on (Ray itself retries for minutes, logging from C++).
    Other forms ("auto", "ray://...") are left to Ray."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise BatchError(f"no Ray cluster at {address} ({exc.strerror or exc}); start one with `ray start --head` "
                         "or leave out --ray for a local Ray") from exc


@contextmanager
def ray_session(address: str | None, workers: int, temp_dir: str | Path | None = None) -> Iterator[int]:
    """Connect to the cluster at ``address`` or start a local, quiet Ray with ``workers`` CPUs; yield the CPUs the
    run may use. A session this function started is shut down on exit; an already initialised one is left alone."""
    _quiet_ray()
    import ray

    started = False
    if not ray.is_initialized():
        runtime_env = {"env_vars": _worker_env()}
        try:
            if address:
                _check_reachable(address)
                ray.init(address=address, runtime_env=runtime_env, log_to_driver=False,
                         logging_level=logging.ERROR)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                         runtime_env=runtime_env, _temp_dir=None if temp_dir is None else str(temp_dir))
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BatchError(f"cannot start or reach Ray at {address or 'local'}: {exc}") from exc
        started = True
    _quiet_ray()  # ray.init configures its loggers again
    try:
        yield max(1, int(ray.cluster_resources().get("CPU", workers)))
    finally:
        if started:
            ray.shutdown()


def _dataset(jobs: list[dict[str, Any]], concurrency: int) -> Any:
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.max_errored_blocks = -1  # a worker that dies on one file loses that file's block, not the run
    dataset = ray.data.from_items(jobs, override_num_blocks=len(jobs))  # one block, hence one task, per file
    return dataset.map(analyse_row, num_cpus=1, compute=ray.data.TaskPoolStrategy(size=concurrency))


def run_batch(
    sources: list[Path],
    out: str | Path,
    tools: tuple[BatchTool, ...],
    fmt: ResultFormat = "parquet",
    workers: int | None = None,
    ray_address: str | None = None,
    gallery: Path | None = None,
    fps: float | None = None,
    retry_errors: bool = False,
    flush_every: int = 8,
    flush_s: float = 20.0,
    on_result: ResultCallback | None = None,
    temp_dir: str | Path | None = None,
) -> BatchReport:
    """Analyse every file of ``sources`` not yet in ``out`` with ``tools``; see the module docstring."""
    from tools.batch.inputs import collect_inputs

    started = time.perf_counter()
    files = collect_inputs(sources)
    if not files:
        raise ConfigError(f"no media files in {', '.join(map(str, sources))}")
    if "identities" in tools and (gallery is None or not gallery.exists()):
        raise ConfigError(f"--tools identities needs a gallery; none at {gallery} (enroll with `mien gallery add`)")
    with ResultStore(out, fmt) as store:
        stored = store.results()
        done = {r.key for r in stored if not (retry_errors and r.status == "error")}
        jobs: list[dict[str, Any]] = [
            {"path": str(p), "key": key, "tools": ",".join(tools), "gallery": str(gallery or ""), "fps": fps or 0.0}
            for p in files
            if (key := result_key(p, tools)) not in done
        ]
        counts = {"ok": 0, "partial": 0, "error": 0}
        interrupted, cpus = False, workers or os.cpu_count() or 1
        if jobs:
            buffer: list[FileResult] = []
            last_flush = time.monotonic()
            returned: set[str] = set()
            try:
                with ray_session(ray_address, cpus, temp_dir) as available:
                    cpus = min(workers or available, available)
                    for row in _dataset(jobs, cpus).iter_rows():
                        result = FileResult.from_row(row)
                        returned.add(result.key)
                        counts[result.status] += 1
                        buffer.append(result)
                        if len(buffer) >= flush_every or time.monotonic() - last_flush >= flush_s:
                            store.append(buffer)
                            buffer, last_flush = [], time.monotonic()
                        if on_result is not None:
                            on_result(result, len(returned), len(jobs))
                    lost = [j for j in jobs if j["key"] not in returned]
                    for job in lost:  # the worker died on these (a crash or out of memory): say so, once per file
                        result = FileResult(
                            path=job["path"], key=job["key"], tools=tools, status="error", finished_at=time.time(),
                            error="the Ray worker analysing this file died (crashed or ran out of memory)",
                        )
                        counts["error"] += 1
                        buffer.append(result)
                        if on_result is not None:
                            on_result(result, len(returned) + lost.index(job) + 1, len(jobs))
            except KeyboardInterrupt:
                interrupted = True
            finally:
                store.append(buffer)
        return BatchReport(
            out=str(out),
            format=fmt,
            files=len(files),
            already_done=len(files) - len(jobs),
            analysed=sum(counts.values()),
            ok=counts["ok"],
            partial=counts["partial"],
            errors=counts["error"],
            interrupted=interrupted,
            seconds=round(time.perf_counter() - started, 3),
            workers=cpus,
            ray_address=ray_address,
            parts_written=store.parts_written,
        )
