"""Reading physiological signals and putting them on the video's clock.

Each channel keeps its own sampling rate. Its kind (EEG, PPG, RSP, SKT, EDA, ECG) comes from its name: the first
kind word it contains (``"PPG finger"`` is PPG, ``"EEG Fz"`` EEG), else ``other``.

* **CSV**: a ``time_s`` column (seconds on the video's clock: 0 is the video's first frame) and one column per
  channel. A channel sampled slower than others leaves its cell empty in the rows it has no sample for.
* **EDF** (``edfio``): every signal with its own rate; time 0 is the recording start. An annotation whose text is
  ``video start`` says where the video's first frame falls in the recording (video time = recording time - that
  onset); without one the recording starts with the video. ``offset_s`` shifts either clock further.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np

from tools.errors import MediaError

SignalKind = Literal["EEG", "PPG", "RSP", "SKT", "EDA", "ECG", "other"]
KINDS: Final[tuple[SignalKind, ...]] = ("EEG", "PPG", "RSP", "SKT", "EDA", "ECG")
VIDEO_START: Final[str] = "video start"


def kind_of(name: str) -> SignalKind:
    upper = name.upper()
    for kind in KINDS:
        if kind in upper:
            return kind
    aliases: dict[str, SignalKind] = {"GSR": "EDA", "BVP": "PPG", "RESP": "RSP", "TEMP": "SKT"}
    return next((k for alias, k in aliases.items() if alias in upper), "other")


@dataclass(frozen=True, eq=False)
class Channel:
    """One signal: ``values`` (n,) float64 sampled at ``rate_hz`` from ``start_s`` on the video's clock."""

    name: str
    kind: SignalKind
    rate_hz: float
    start_s: float
    values: np.ndarray

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.values) / self.rate_hz

    def times_s(self) -> np.ndarray:
        return self.start_s + np.arange(len(self.values)) / self.rate_hz

    def between(self, start_s: float, end_s: float) -> np.ndarray:
        """The samples with video time in [start_s, end_s)."""
        lo = max(0, math.ceil((start_s - self.start_s) * self.rate_hz - 1e-9))
        hi = min(len(self.values), math.ceil((end_s - self.start_s) * self.rate_hz - 1e-9))
        return self.values[lo:hi] if hi > lo else self.values[:0]


@dataclass
class Signals:
    """The channels of one file, on the video's clock."""

    source: str
    channels: list[Channel] = field(default_factory=list)

    def first(self, *kinds: SignalKind) -> Channel | None:
        """The first channel of the first of ``kinds`` present (e.g. PPG, else ECG)."""
        for kind in kinds:
            for channel in self.channels:
                if channel.kind == kind:
                    return channel
        return None

    @property
    def start_s(self) -> float:
        return min(c.start_s for c in self.channels)

    @property
    def end_s(self) -> float:
        return max(c.end_s for c in self.channels)

    def check_overlap(self, video_start_s: float, video_end_s: float) -> None:
        """``MediaError`` when no channel covers any of [video_start_s, video_end_s]."""
        if not any(c.start_s < video_end_s and c.end_s > video_start_s for c in self.channels):
            raise MediaError(
                f"{self.source}: the signals cover {self.start_s:.1f}-{self.end_s:.1f} s on the video's clock but "
                f"the video runs {video_start_s:.1f}-{video_end_s:.1f} s: they do not overlap (check the time_s "
                f"column, the EDF '{VIDEO_START}' annotation, or the offset)"
            )


def read_signals(path: str | Path, offset_s: float = 0.0) -> Signals:
    """The channels of a ``.csv`` or ``.edf`` file, shifted by ``offset_s`` seconds on the video's clock."""
    source = Path(path)
    if not source.is_file():
        raise MediaError(f"{source}: no such signals file")
    suffix = source.suffix.lower()
    if suffix == ".csv":
        signals = _read_csv(source)
    elif suffix in (".edf", ".bdf"):
        signals = _read_edf(source)
    else:
        raise MediaError(f"{source}: signals must be a .csv (time_s + one column per channel) or an .edf file")
    if not signals.channels:
        raise MediaError(f"{source}: no signal channel found")
    if offset_s:
        signals.channels = [
            Channel(c.name, c.kind, c.rate_hz, c.start_s + offset_s, c.values) for c in signals.channels
        ]
    return signals


def _read_csv(source: Path) -> Signals:
    with source.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or "time_s" not in [h.strip() for h in header]:
            raise MediaError(f"{source}: the CSV needs a header with a time_s column and one column per channel")
        names = [h.strip() for h in header]
        time_column = names.index("time_s")
        columns: dict[int, tuple[list[float], list[float]]] = {
            i: ([], []) for i in range(len(names)) if i != time_column
        }
        for line, row in enumerate(reader, start=2):
            try:
                time_s = float(row[time_column])
                for i, (times, values) in columns.items():
                    if i < len(row) and row[i].strip():
                        times.append(time_s)
                        values.append(float(row[i]))
            except (ValueError, IndexError) as error:
                raise MediaError(f"{source}:{line}: not a number ({error})") from error
    channels = []
    for i, (times, values) in columns.items():
        if len(values) < 2:
            continue
        steps = np.diff(np.asarray(times))
        if np.any(steps <= 0):
            raise MediaError(f"{source}: time_s must increase (channel {names[i]})")
        rate = 1.0 / float(np.median(steps))
        channels.append(Channel(names[i], kind_of(names[i]), rate, times[0], np.asarray(values, np.float64)))
    return Signals(str(source), channels)


def _read_edf(source: Path) -> Signals:
    import edfio

    try:
        edf = edfio.read_edf(source)
    except (ValueError, OSError, IndexError) as error:
        raise MediaError(f"{source}: not a readable EDF file ({error})") from error
    video_start = next((a.onset for a in edf.annotations if a.text.strip().lower() == VIDEO_START), 0.0)
    channels = [
        Channel(s.label.strip(), kind_of(s.label), float(s.sampling_frequency), -float(video_start),
                np.asarray(s.data, np.float64))
        for s in edf.signals
    ]
    return Signals(str(source), channels)


def write_edf(path: str | Path, channels: list[Channel], video_start_s: float | None = None) -> Path:
    """Write ``channels`` (each starting at recording time 0, own rate) to an EDF+ file, with a ``video start``
    annotation when ``video_start_s`` is given. For tests and for users converting other formats."""
    import edfio

    from tools.storage import atomic_path

    signals = []
    for c in channels:
        low, high = float(np.min(c.values)), float(np.max(c.values))
        if high <= low:
            high = low + 1.0
        signals.append(edfio.EdfSignal(np.asarray(c.values, np.float64), c.rate_hz, label=c.name,
                                       physical_range=(low, high)))
    annotations = [edfio.EdfAnnotation(video_start_s, None, VIDEO_START)] if video_start_s is not None else None
    edf = edfio.Edf(signals, annotations=annotations)
    target = Path(path)
    with atomic_path(target) as tmp:
        edf.write(tmp)
    return target
