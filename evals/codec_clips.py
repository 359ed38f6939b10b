"""Real codec variety made at run time with PyAV's own encoders, with damage injected where real files break.

Each clip is encoded for real (MPEG-4 Part 2 + AC-3 in AVI, H.264 + AAC in MP4, VP9 + Opus in WebM), from frames
composed of a real photo (the astronaut, ``evals.clips``) and a real espeak-ng sentence. Damage is what transit
does to a file: one packet whose bytes are replaced by noise (the container stays valid, as in the AVI of issue 8
that ffmpeg plays with one warning), or a file cut short. Variable frame rate and a phone's display rotation are
written as the container stores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from evals.clips import Sprite, astronaut_head, render_frames
from tools.media import load_audio
from tools.speech.espeak import synthesize_speech

SENTENCE = "Hello, my name is Alice and I am very happy to meet you today."


@dataclass(frozen=True)
class ClipSpec:
    """How to encode a clip. ``corrupt``: (stream, packet index) pairs whose bytes become noise."""

    container: str
    video_codec: str
    audio_codec: str | None
    sample_rate: int = 48_000
    layout: str = "stereo"
    fps: int = 10
    seconds: float = 3.0
    size: tuple[int, int] = (320, 240)
    variable_rate: bool = False
    rotation: int | None = None
    faststart: bool = False
    corrupt: tuple[tuple[str, int], ...] = field(default_factory=tuple)


AVI_MPEG4_AC3 = ClipSpec("avi", "mpeg4", "ac3", 48_000, "stereo")
MP4_H264_AAC = ClipSpec("mp4", "libx264", "aac", 44_100, "mono")
WEBM_VP9_OPUS = ClipSpec("webm", "libvpx-vp9", "libopus", 48_000, "stereo")


@lru_cache(maxsize=1)
def speech_16k() -> np.ndarray:
    """The espeak-ng sentence as 16 kHz mono float32 (made once per test session)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return load_audio(synthesize_speech(SENTENCE, Path(folder) / "speech.wav"))


def speech_at(rate: int, seconds: float) -> np.ndarray:
    """The sentence resampled to ``rate`` Hz and padded or cut to ``seconds``."""
    source = speech_16k()
    n = int(seconds * rate)
    positions = np.arange(n) * (16_000 / rate)
    samples = np.interp(positions, np.arange(source.size), source, right=0.0).astype(np.float32)
    return samples


def face_frames(spec: ClipSpec) -> Iterable[np.ndarray]:
    """The frames as they are meant to be seen: the astronaut, still and large, over the plain backdrop (a face
    every detector finds). With a quarter-turn ``rotation`` they are portrait (``size`` turned), as a phone held
    upright films them."""
    width, height = spec.size if not quarter_turn(spec) else spec.size[::-1]
    sprite = Sprite(astronaut_head(), lambda t: (0.5 * width, 0.5 * height, 0.8 * min(width, height)))
    return render_frames([sprite], spec.seconds, spec.fps, (width, height))


def quarter_turn(spec: ClipSpec) -> int:
    """The display rotation in quarter turns counter-clockwise (-90 -> -1)."""
    turns = round((spec.rotation or 0) / 90) % 4
    return -1 if turns == 3 else turns


def stored_frames(spec: ClipSpec) -> Iterable[np.ndarray]:
    """What the camera stores: the frames turned back by the display rotation (a phone stores landscape frames
    and a flag; a player turns them by the flag)."""
    turns = quarter_turn(spec)
    for image in face_frames(spec):
        yield np.ascontiguousarray(np.rot90(image, k=-turns)) if turns else image


def make_clip(path: Path, spec: ClipSpec, frames: Iterable[np.ndarray] | None = None) -> Path:
    """Encode ``spec`` to ``path`` and return it; ``frames`` (as stored, ``spec.size``) replace the astronaut."""
    rng = np.random.default_rng(8)
    options = {"movflags": "+faststart"} if spec.faststart else {}
    with av.open(str(path), mode="w", format=spec.container, options=options) as container:
        video = container.add_stream(spec.video_codec, rate=spec.fps)
        video.width, video.height = spec.size
        video.pix_fmt = "yuv420p"
        if spec.variable_rate:  # frame times in ms, kept by the encoder (its default is 1/fps: constant rate)
            video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        if spec.rotation is not None:
            video.set_display_rotation(spec.rotation)
        packets = _video_packets(video, spec, stored_frames(spec) if frames is None else frames)
        if spec.audio_codec is not None:
            audio = container.add_stream(spec.audio_codec, rate=spec.sample_rate)
            audio.layout = spec.layout
            packets += _audio_packets(audio, spec)
        by_stream: dict[str, int] = {}
        for packet in sorted(packets, key=_packet_time):
            kind = packet.stream.type
            index = by_stream.get(kind, 0)
            by_stream[kind] = index + 1
            if (kind, index) in spec.corrupt:
                packet = _noise_like(packet, rng)
            container.mux(packet)
    return path


def vfr_times(spec: ClipSpec) -> list[float]:
    """Frame times of a variable-rate clip: intervals alternate 60 and 140 ms (an average of ``1/fps``)."""
    period = 1.0 / spec.fps
    return [i * period + (0.4 * period if i % 2 else 0.0) for i in range(round(spec.seconds * spec.fps))]


def _video_packets(
    stream: av.video.stream.VideoStream, spec: ClipSpec, frames: Iterable[np.ndarray]
) -> list[av.Packet]:
    packets: list[av.Packet] = []
    times = vfr_times(spec) if spec.variable_rate else None
    for index, image in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        if times is not None:
            frame.pts, frame.time_base = round(times[index] * 1000), Fraction(1, 1000)
        else:
            frame.pts = index
        packets += stream.encode(frame)
    return packets + list(stream.encode())


def _audio_packets(stream: av.audio.stream.AudioStream, spec: ClipSpec) -> list[av.Packet]:
    samples = speech_at(spec.sample_rate, spec.seconds)
    channels = 2 if spec.layout == "stereo" else 1
    chunk = stream.codec_context.frame_size or 1024
    packets: list[av.Packet] = []
    for start in range(0, samples.size, chunk):
        piece = np.ascontiguousarray(np.tile(samples[start : start + chunk], (channels, 1)))
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=spec.layout)
        frame.sample_rate, frame.pts = spec.sample_rate, start
        packets += stream.encode(frame)
    return packets + list(stream.encode(None))


def _packet_time(packet: av.Packet) -> float:
    stamp = packet.dts if packet.dts is not None else (packet.pts or 0)
    return float(stamp * packet.time_base) if packet.time_base else 0.0


# Bytes left intact at the start of a damaged packet: H.264 in MP4 starts with a NAL length prefix and header (noise
# there makes the muxer drop the packet, so no damaged packet would reach the file).
KEEP_HEADER_BYTES = {"libx264": 8, "h264": 8}


def _noise_like(packet: av.Packet, rng: np.random.Generator) -> av.Packet:
    """``packet`` with its payload after the first 8 bytes (a frame or NAL header) replaced by noise: a transit error.

    Same timing, stream and size, so the container stays valid and only the decoder can tell.
    """
    data = bytearray(bytes(packet))
    codec = packet.stream.codec_context.name
    keep = KEEP_HEADER_BYTES.get(codec, 0)
    data[keep:] = rng.integers(0, 256, len(data) - keep, dtype=np.uint8).tobytes()
    if codec in ("opus", "libopus"):
        # Opus has no checksum: noise in the payload plays as noise, undetected (ffmpeg is silent too). A damaged
        # table-of-contents byte (code 3, zero frames) is what a decoder can see.
        data[:2] = b"\x03\x00"
    noise = av.Packet(bytes(data))
    noise.stream = packet.stream
    noise.time_base = packet.time_base
    noise.pts, noise.dts = packet.pts, packet.dts
    noise.is_keyframe = packet.is_keyframe
    return noise


def cut(source: Path, path: Path, keep_fraction: float) -> Path:
    """The first ``keep_fraction`` of ``source``'s bytes (a download that broke off)."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path
