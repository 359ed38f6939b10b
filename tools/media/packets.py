"""Decoding one stream packet by packet, so that a damaged packet costs its own frames and not the whole file.

``container.decode(stream)`` raises on the first packet the decoder rejects, which turned one bad AC-3 packet in an
AVI into "the audio is corrupt" for the whole file. Here each packet is sent to the decoder on its own: a rejected
packet is skipped and counted; errors the decoder reports while still producing output (H.264 concealing a broken
slice, say) are counted as concealed; a demuxer that breaks off (a truncated file) ends the stream where it broke,
and the decoder is flushed so the frames it holds still come out. FFmpeg's own log lines are captured and counted,
never printed: the ``DamageReport`` says it in one line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.logging

from tools.media.damage import DamageReport, StreamKind, report_damage

# A stream counts as cut short when its last packet ends this much before the duration its header announces.
TRUNCATION_SLACK_S = 0.25

_logging_ready = False


def _capture_ffmpeg_errors() -> None:
    """Route FFmpeg's error messages to PyAV's capture (to be counted) and never to the terminal.

    PyAV ignores FFmpeg's log by default, which also hides the errors a decoder reports while concealing damage;
    the ``libav`` Python loggers are cut off so that nothing FFmpeg says is printed in the middle of our output.
    """
    global _logging_ready
    if _logging_ready:
        return
    libav = logging.getLogger("libav")
    libav.propagate = False
    libav.addHandler(logging.NullHandler())
    av.logging.set_level(av.logging.ERROR)
    _logging_ready = True


@dataclass
class StreamDamage:
    """Counts kept while one stream decodes; ``report`` turns them into a ``DamageReport``."""

    path: Path
    kind: StreamKind
    expected_s: float
    skipped: int = 0
    concealed: int = 0
    packets: int = 0  # non-empty packets sent to the decoder
    frames: int = 0  # frames it gave back
    first_damage_s: float | None = None
    last_end_s: float = 0.0
    broke_off: str | None = None
    finished: bool = False
    errors: list[str] = field(default_factory=list)

    def damage_at(self, time_s: float | None, skipped: bool, error: str) -> None:
        if skipped:
            self.skipped += 1
        else:
            self.concealed += 1
        if self.first_damage_s is None and time_s is not None:
            self.first_damage_s = time_s
        if len(self.errors) < 3:
            self.errors.append(error)

    def report(self) -> DamageReport:
        stopped: float | None = None
        if self.finished and self.broke_off is None:
            self.broke_off = _riff_shortfall(self.path)
        if self.finished and (
            self.broke_off is not None or self.last_end_s + TRUNCATION_SLACK_S < self.expected_s * 0.98
        ):
            stopped = self.last_end_s
        if self.finished and self.kind == "video":
            # A video packet is one picture; one the decoder silently dropped (H.264 does, for noise) is damage.
            self.concealed += max(0, self.packets - self.skipped - self.frames - self.concealed)
        return DamageReport(
            self.path,
            self.kind,
            skipped_packets=self.skipped,
            concealed_packets=self.concealed,
            first_damage_s=self.first_damage_s,
            stopped_at_s=stopped,
            expected_s=self.expected_s,
            reason=self.broke_off or "",
        )


def announced_duration_s(stream: av.stream.Stream) -> float | None:
    """The duration the container's header announces for ``stream`` (None when it announces none)."""
    if stream.duration is None or stream.time_base is None or stream.duration <= 0:
        return None
    return float(stream.duration * stream.time_base)


def decode_stream(
    container: av.container.InputContainer,
    stream: av.stream.Stream,
    path: Path,
    expected_s: float,
) -> Generator[av.frame.Frame, None, None]:
    """Yield the decoded frames of ``stream``, skipping damaged packets; report the damage once at the end.

    Reporting happens when the stream is exhausted or the caller stops early; a caller that stops early is never
    told the file was truncated (it did not read that far). Truncation is judged against the stream's own duration
    when its header gives one (a speech track may rightly end before the picture), else against ``expected_s``.
    """
    expected_s = announced_duration_s(stream) or expected_s
    _capture_ffmpeg_errors()
    for other in container.streams:
        if other.index != stream.index:
            # Not even parsed: a parser's complaint about another stream's packet must not count against this one.
            other.discard = av.stream.Discard.all
    damage = StreamDamage(path, "video" if stream.type == "video" else "audio", expected_s)
    try:
        packets = container.demux(stream)
        while True:
            with av.logging.Capture(local=False) as demux_logs:  # parsers report damage here, e.g. Opus headers
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.error.FFmpegError as error:
                    damage.broke_off = f"the container breaks off: {_short(error)}"
                    packet = None
            if packet is None:
                yield from _flush(stream, damage)
                break
            yield from _decode_packet(packet, damage, _errors(demux_logs))
        damage.finished = True
    finally:
        report_damage(damage.report())


def drain_decoder(stream: av.stream.Stream) -> None:
    """Let a frame-threaded decoder finish the pictures it is still working on, before it is freed.

    A caller that stops early (one key frame, the first frames of a clip) leaves FFmpeg's frame threads busy; if one
    of them logs an error (a damaged picture) it waits for the GIL in PyAV's log callback, while freeing the decoder
    (which holds the GIL) waits for that thread: the process hangs for ever (reproduced on a damaged H.264 clip read
    one frame at a time). Draining runs without the GIL, so such a thread finishes; afterwards the threads are idle.
    """
    context = stream.codec_context
    if context is None:
        return
    # Already drained (end of file), or a damaged last picture: either way the threads are done.
    with contextlib.suppress(av.error.FFmpegError, ValueError):
        context.decode(None)


def _errors(logs: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    return [entry for entry in logs if entry[0] <= av.logging.ERROR]


def _decode_packet(
    packet: av.packet.Packet, damage: StreamDamage, errors: list[tuple[int, str, str]]
) -> list[av.frame.Frame]:
    stamp = packet.pts if packet.pts is not None else packet.dts
    time_s = float(stamp * packet.time_base) if stamp is not None and packet.time_base else None
    damage.packets += 1 if packet.size else 0
    with av.logging.Capture(local=False) as logs:
        try:
            frames = list(packet.decode())
        except av.error.FFmpegError as error:
            damage.damage_at(time_s, skipped=True, error=_short(error))
            return []
    damage.frames += len(frames)
    errors = errors + _errors(logs)
    if errors and packet.size:
        damage.damage_at(time_s, skipped=False, error=str(errors[0][2]).strip())
    if time_s is not None and packet.size:
        duration_s = float(packet.duration * packet.time_base) if packet.duration else 0.0
        damage.last_end_s = max(damage.last_end_s, time_s + duration_s)
    return frames


def _flush(stream: av.stream.Stream, damage: StreamDamage) -> list[av.frame.Frame]:
    """The frames the decoder still holds after the demuxer broke off."""
    try:
        frames = list(stream.codec_context.decode(None))
    except av.error.FFmpegError as error:
        damage.errors.append(_short(error))
        return []
    damage.frames += len(frames)
    return frames


def _riff_shortfall(path: Path) -> str | None:
    """For RIFF files (AVI, WAV): the header states the file's size, so a cut-off file says so.

    FFmpeg's AVI demuxer reads a cut-off file to its end without complaint (and takes the duration from what is
    there), so this is the only sign of the truncation.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
        actual = path.stat().st_size
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] not in (b"AVI ", b"WAVE"):
        return None
    declared = int.from_bytes(head[4:8], "little") + 8
    if declared <= actual + 1:  # RIFF pads odd chunks with one byte
        return None
    return f"the file holds {actual:,} of the {declared:,} bytes its header announces"


def _short(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return str(text).split(":")[0].strip() or type(error).__name__
