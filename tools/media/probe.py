"""What is this file? Images are recognised from their header; everything else is probed with FFmpeg (PyAV)."""

from __future__ import annotations

import functools
from pathlib import Path

import av

from tools.errors import MediaError, MediaTooLargeError
from tools.media.checks import check_dimensions, check_file
from tools.media.image import IMAGE_SUFFIXES, image_size
from tools.media.packets import drain_decoder
from tools.media.types import MediaInfo
from tools.settings import Settings, get_settings

# Sample rates a real audio track has (telephone 8 kHz down to 1 kHz for odd sensors, studio 768 kHz at most).
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 768_000


def open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` with FFmpeg or raise a ``MediaError`` that says the file is corrupt or unsupported."""
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError as error:
        raise MediaError(f"{path}: corrupt, truncated or unsupported media (FFmpeg: {error.strerror})") from error
    except (av.error.FFmpegError, OSError) as error:
        raise MediaError(f"{path}: cannot open media ({error})") from error


def probe_media(path: str | Path, settings: Settings | None = None) -> MediaInfo:
    """Describe ``path`` (image, video or audio) without decoding its pixels or samples."""
    settings = settings or get_settings()
    file = check_file(path, settings)
    size_bytes = file.stat().st_size
    dims = image_size(file)
    if dims is not None:
        check_dimensions(file, dims[0], dims[1], settings)
        return MediaInfo(file, "image", dims[0], dims[1], 0.0, 0.0, True, False, size_bytes)
    if file.suffix.lower() in IMAGE_SUFFIXES:
        raise MediaError(f"{file}: not a readable image (unknown format or corrupt header)")
    with open_container(file) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is not None and video.codec_context is None:
            # FFmpeg found a stream but no decoder for it: a damaged header or a codec id it does not know.
            raise MediaError(f"{file}: the video stream has an unknown codec or a corrupt header; it cannot be decoded")
        if audio is not None and audio.codec_context is None:
            audio = None  # an undecodable audio track is no audio track (a video is still read)
        if audio is not None and not MIN_SAMPLE_RATE <= int(audio.rate or 0) <= MAX_SAMPLE_RATE:
            # A damaged header's rate (134 MHz, found by evals/fuzz) makes every resampler call fail, slowly.
            if video is None:
                raise MediaError(
                    f"{file}: the audio track claims a sample rate of {int(audio.rate or 0):,} Hz; the header is "
                    f"probably corrupt (Mien reads {MIN_SAMPLE_RATE:,} to {MAX_SAMPLE_RATE:,} Hz)"
                )
            audio = None
        if video is None and audio is None:
            raise MediaError(f"{file}: holds neither video nor audio")
        duration_s = _duration_s(container, video or audio)
        if duration_s > settings.max_video_seconds:
            raise MediaTooLargeError(
                f"{file}: {duration_s:.0f} s is over the limit of {settings.max_video_seconds:.0f} s "
                "(MIEN_MAX_VIDEO_SECONDS)"
            )
        if video is not None:
            width, height = int(video.codec_context.width), int(video.codec_context.height)
            if width * height > settings.max_frame_pixels:
                raise MediaTooLargeError(
                    f"{file}: frames of {width}x{height} are over the frame pixel limit of "
                    f"{settings.max_frame_pixels:,} pixels (MIEN_MAX_FRAME_PIXELS); refused before decoding"
                )
            if width <= 0 or height <= 0:
                raise MediaError(f"{file}: the video stream has no frame size; the file is probably corrupt")
            fps = float(video.average_rate) if video.average_rate else 0.0
            pictures = len(video.index_entries or ())
            if fps > 240 and pictures and duration_s > 0:
                # A variable-rate AVI says 1000 fps (its millisecond time base, empty slots between pictures);
                # its index lists the pictures it holds, and their mean rate is what a sampler needs.
                fps = pictures / duration_s
            check_frame_count(file, video, fps, duration_s, settings)
            rotation = display_rotation(file, size_bytes, file.stat().st_mtime_ns)
            if rotation % 180:
                width, height = height, width
            return MediaInfo(
                file, "video", width, height, duration_s, fps, True, audio is not None, size_bytes, rotation
            )
        return MediaInfo(file, "audio", 0, 0, duration_s, 0.0, False, True, size_bytes)


def check_frame_count(
    file: Path, video: av.video.stream.VideoStream, fps: float, duration_s: float, settings: Settings
) -> None:
    """Refuse, before decoding, a video announcing more frames than ``max_video_frames`` (a tiny file whose header
    claims a million frames a second decodes for ever): the container's frame count, or its duration times rate."""
    announced = max(int(video.frames or 0), int(duration_s * fps))
    if announced > settings.max_video_frames:
        raise MediaTooLargeError(
            f"{file}: the video announces {announced:,} frames in {duration_s:.0f} s, over the limit of "
            f"{settings.max_video_frames:,} frames (MIEN_MAX_VIDEO_FRAMES); refused before decoding"
        )


@functools.lru_cache(maxsize=256)
def display_rotation(file: Path, size_bytes: int, mtime_ns: int) -> int:
    """The display rotation of the first video frame in degrees counter-clockwise, a multiple of 90 (0 if none).

    FFmpeg attaches the stream's display matrix to decoded frames, so one frame is decoded; the answer is cached
    per file version (size and mtime are part of the key) because every tool probes the file it is given.
    """
    del size_bytes, mtime_ns  # cache key only
    try:
        with av.open(str(file), mode="r", metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            try:
                for count, packet in enumerate(container.demux(stream)):
                    if count > 64:
                        break
                    try:
                        for frame in packet.decode():
                            return quarter_turns(frame.rotation) * 90
                    except av.error.FFmpegError:
                        continue
            finally:
                drain_decoder(stream)  # it stopped early: let busy decoder threads finish before it is freed
    except (av.error.FFmpegError, OSError, IndexError):
        return 0
    return 0


def quarter_turns(rotation: float | None) -> int:
    """A display rotation (degrees counter-clockwise) as quarter turns in -1..2 (so -90 stays -90, 270 too)."""
    turns = round(float(rotation or 0) / 90.0) % 4
    return -1 if turns == 3 else turns


def _duration_s(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    return 0.0
