"""RESULTS: a folder of part files (Parquet or JSONL) that a batch run appends to and resumes from.

Why parts: a run over 10,000 videos is interrupted sooner or later. Each part is written to a hidden temporary
name, flushed to disk and renamed into place, so a part is either whole or absent, and every result in a part is
final. Resuming reads the ``key`` column of every part and skips those files. The folder reads as one table with
``pandas.read_parquet(RESULTS)``, ``ray.data.read_parquet(RESULTS)`` or ``cat RESULTS/part-*.jsonl``.
One run at a time per folder: a lock file makes a second concurrent run fail with a clear message.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Literal

from tools.batch.types import ROW_COLUMNS, FileResult, nested_row
from tools.errors import ConfigError, MienError

ResultFormat = Literal["parquet", "jsonl"]
FORMATS: tuple[ResultFormat, ...] = ("parquet", "jsonl")
_TMP_PREFIX = ".tmp-part-"


class BatchBusyError(MienError):
    """Another batch run is writing to the same RESULTS folder."""

    exit_code = 13


def _arrow_schema():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64()}
    return pa.schema([(name, types[kind]) for name, kind in ROW_COLUMNS.items()])


def _part_files(out: Path, fmt: ResultFormat) -> list[Path]:
    return sorted(out.glob(f"part-*.{fmt}"))


def read_results(out: str | Path) -> list[FileResult]:
    """Every result stored in RESULTS (both formats), in part order. Raises ``ConfigError`` if it is not a folder."""
    folder = Path(out)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no batch results folder here")
    return [FileResult.from_row(row) for fmt in FORMATS for part in _part_files(folder, fmt) for row in _rows(part)]


def _rows(part: Path) -> list[dict]:
    if part.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(part).to_pylist()
    with part.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class ResultStore:
    """The RESULTS folder of one run: what is already done, and atomic appends of new parts."""

    def __init__(self, out: str | Path, fmt: ResultFormat = "parquet") -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown results format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.out, self.fmt = Path(out), fmt
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"{self.out}: --out must be a folder (results are written as part files in it)")
        other = [f for f in FORMATS if f != fmt and _part_files(self.out, f)] if self.out.exists() else []
        if other:
            raise ConfigError(
                f"{self.out} holds {other[0]} results; resume with --format {other[0]} or choose another --out"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock: IO[str] | None = None
        self.parts_written = 0

    def __enter__(self) -> ResultStore:
        self._lock = (self.out / ".lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            self._lock = None
            raise BatchBusyError(f"{self.out}: another `mien batch` run is writing here; wait for it or use "
                                 "another --out") from exc
        for stale in self.out.glob(f"{_TMP_PREFIX}*"):  # left by a run that was killed mid-write
            stale.unlink(missing_ok=True)
        return self

    def __exit__(self, *_: object) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def done_keys(self) -> set[str]:
        """Keys of every result already in RESULTS (errors included: rerun with ``retry_errors`` to redo those)."""
        return {r.key for r in self.results()}

    def results(self) -> list[FileResult]:
        return read_results(self.out)

    def append(self, results: Iterable[FileResult]) -> Path | None:
        """Write ``results`` as one new part, atomically (temporary name, fsync, rename). None when empty."""
        rows = [r.to_row() for r in results]
        if not rows:
            return None
        name = f"part-{len(_part_files(self.out, self.fmt)):05d}-{uuid.uuid4().hex[:8]}.{self.fmt}"
        tmp, final = self.out / f"{_TMP_PREFIX}{name}", self.out / name
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows, schema=_arrow_schema()), tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            with tmp.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(nested_row(row), ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, final)
        self.parts_written += 1
        return final


def latest_results(out: str | Path) -> list[FileResult]:
    """One result per key, the latest (a file redone with ``retry_errors`` has its old error row superseded)."""
    latest: dict[str, FileResult] = {}
    for result in read_results(out):
        if result.key not in latest or result.finished_at >= latest[result.key].finished_at:
            latest[result.key] = result
    return sorted(latest.values(), key=lambda r: r.path)
