"""What went wrong while decoding a damaged file, said once per stream, and collected for the results that used it.

Real files break: a packet is damaged in transit, a download is cut short. FFmpeg's players skip a bad packet with
one warning and play the rest; Mien does the same. Each decoded stream keeps a ``DamageReport`` (packets the decoder
rejected or decoded with errors, where the readable part stopped) and, when anything was wrong, logs one warning
line and hands the report to every active ``collect_damage`` block, so a tool can say in its result that it used
the readable part of the file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

StreamKind = Literal["video", "audio"]

_collectors: ContextVar[tuple[list[DamageReport], ...]] = ContextVar("mien_media_damage", default=())


@dataclass(frozen=True)
class DamageReport:
    """Damage found in one stream of one file while decoding it.

    ``skipped_packets``: packets the decoder rejected (their frames or samples are missing). ``concealed_packets``:
    packets the decoder accepted but reported errors on (it filled the gaps, e.g. from the previous frame).
    ``first_damage_s``: presentation time of the first damaged packet. ``stopped_at_s``: where the readable part
    ends, when the file ended (or broke off) before ``expected_s``, the duration its header announces.
    """

    path: Path
    stream: StreamKind
    skipped_packets: int = 0
    concealed_packets: int = 0
    first_damage_s: float | None = None
    stopped_at_s: float | None = None
    expected_s: float = 0.0
    reason: str = ""

    @property
    def damaged(self) -> bool:
        return bool(self.skipped_packets or self.concealed_packets or self.stopped_at_s is not None)

    @property
    def severity(self) -> tuple[bool, int]:
        """For choosing the worst of several reads of one stream: cut short first, then damaged packets."""
        return (self.stopped_at_s is not None, self.skipped_packets + self.concealed_packets)

    def message(self) -> str:
        """One line: what was wrong and what was used instead (``file.avi: audio: skipped 1 damaged packet ...``)."""
        parts: list[str] = []
        if self.skipped_packets:
            parts.append(f"skipped {_count(self.skipped_packets, 'damaged packet')}")
        if self.concealed_packets:
            parts.append(f"{_count(self.concealed_packets, 'packet')} decoded with errors (concealed by the decoder)")
        if parts:
            parts = [" and ".join(parts)]
            if self.first_damage_s is not None:
                parts[0] += f", the first at {self.first_damage_s:.2f} s"
        if self.stopped_at_s is not None:
            stop = f"the readable part stops at {self.stopped_at_s:.2f} s"
            if self.expected_s > 0:
                stop += f" of {self.expected_s:.2f} s"
            parts.append(stop + (f" ({self.reason})" if self.reason else " (truncated or damaged file)"))
        return f"{self.path.name}: {self.stream}: {'; '.join(parts)}; used the rest"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_said: dict[tuple[str, str], tuple[bool, int]] = {}  # (file, stream) -> the worst severity said so far


def report_damage(report: DamageReport) -> None:
    """Give ``report`` to every active collector and log it as one warning line (nothing when undamaged).

    A file read several times (tracking, then hiding, then checking) is warned about once per stream and process,
    unless a later read finds more: the same line again would read like more damage.
    """
    if not report.damaged:
        return
    for reports in _collectors.get():
        reports.append(report)
    key = (str(report.path), report.stream)
    said = _said.get(key)
    # Threaded decoders surface errors a packet or two apart between reads: say it again only when it is worse.
    if said is None or report.severity[0] > said[0] or report.severity[1] > said[1]:
        now = report.severity
        _said[key] = now if said is None else (now[0] or said[0], max(now[1], said[1]))
        log.warning("%s", report.message())


@contextlib.contextmanager
def collect_damage() -> Iterator[list[DamageReport]]:
    """Collect the damage reports of everything decoded inside the block (nested blocks all see them)."""
    reports: list[DamageReport] = []
    token = _collectors.set((*_collectors.get(), reports))
    try:
        yield reports
    finally:
        _collectors.reset(token)
