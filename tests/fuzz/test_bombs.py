"""Decompression bombs and lying headers are refused from the header, before a pixel or sample is decoded.

Every decoder entry point Mien has (PIL's ``load``, the packet decoder of videos and audio, the one-frame display
rotation probe) is made to fail the test if it is reached, so "refused before decoding" is checked, not assumed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageFile

from evals.fuzz.mutate import mutate
from tests.fuzz import bombs
from tools.errors import MediaError, MediaTooLargeError
from tools.media import iter_frames, load_audio, load_image, probe_media
from tools.settings import get_settings


@pytest.fixture()
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def decoded(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a decoder was reached")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    monkeypatch.setattr("tools.media.video.decode_stream", decoded)
    monkeypatch.setattr("tools.media.audio.decode_stream", decoded)
    monkeypatch.setattr("tools.media.probe.display_rotation", decoded)


def test_a_png_claiming_100000_squared_pixels_is_refused_from_its_header(tmp_path: Path, no_decoding: None) -> None:
    bomb = bombs.png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100
    for read in (load_image, probe_media, lambda p: next(iter_frames(p))):
        with pytest.raises(MediaTooLargeError, match=r"100000x100000 pixels is over the limit of 64,000,000"):
            read(bomb)


def test_a_jpeg_claiming_65500_squared_pixels_is_refused(
    seeds: dict[str, Path], tmp_path: Path, no_decoding: None
) -> None:
    bomb = bombs.jpeg_bomb(seeds["jpg"], tmp_path / "bomb.jpg")
    with pytest.raises(MediaTooLargeError, match=r"65500x65500 pixels"):
        load_image(bomb)


def test_a_png_chunk_claiming_2_gib_is_refused_before_pil_reads_it(
    seeds: dict[str, Path], tmp_path: Path, no_decoding: None
) -> None:
    # Found by the fuzzer: PIL read such a chunk with one read(length) call, a 2-4 GiB allocation.
    bomb = bombs.png_chunk_bomb(seeds["png"], tmp_path / "chunk.png")
    with pytest.raises(MediaError, match=r"IDAT chunk claims 2,147,483,392 bytes but only [\d,]+ remain"):
        load_image(bomb)


def test_a_tiny_video_with_huge_frames_is_refused(tmp_path: Path, no_decoding: None) -> None:
    bomb = bombs.y4m_huge_frames(tmp_path / "huge.y4m")
    with pytest.raises(MediaTooLargeError, match=r"12000x12000 .* limit of 67,108,864 pixels"):
        next(iter_frames(bomb))


def test_a_video_announcing_two_billion_frames_is_refused(
    seeds: dict[str, Path], tmp_path: Path, no_decoding: None
) -> None:
    # 2e9 frames at a million a second: 2000 s, within the duration limit, but decoding would never end.
    bomb = bombs.avi_announcing(seeds["avi"], tmp_path / "frames.avi", 2_000_000_000, 1_000_000)
    with pytest.raises(MediaTooLargeError, match=r"announces 2,000,000,000 frames in 2000 s.*MIEN_MAX_VIDEO_FRAMES"):
        next(iter_frames(bomb))
    long = bombs.avi_announcing(seeds["avi"], tmp_path / "long.avi", 2_000_000_000, 5)  # 12.7 years
    with pytest.raises(MediaTooLargeError, match=r"over the limit of 14400 s"):
        probe_media(long)


def test_the_frame_limit_is_a_setting(seeds: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    assert sum(1 for _ in iter_frames(seeds["avi"])) == 5  # the real 1 s clip at 5 fps reads under the default
    monkeypatch.setenv("MIEN_MAX_VIDEO_FRAMES", "4")
    get_settings.cache_clear()
    with pytest.raises(MediaTooLargeError, match=r"announces 5 frames .* limit of 4 frames"):
        probe_media(seeds["avi"])


def test_a_stream_no_decoder_knows_is_a_clear_error(seeds: dict[str, Path], tmp_path: Path) -> None:
    # Found by the fuzzer as an AttributeError ('NoneType' object has no attribute 'width') in probe_media.
    broken = bombs.avi_unknown_codec(seeds["avi"], tmp_path / "unknown.avi")
    with pytest.raises(MediaError, match=r"video stream has an unknown codec or a corrupt header"):
        next(iter_frames(broken))


def test_a_wav_with_an_impossible_sample_rate_is_refused(seeds: dict[str, Path], tmp_path: Path) -> None:
    # Found by the fuzzer: at 134 MHz every resampler call failed (then an FFmpeg ArgumentError escaped, or 20 s
    # went by refusing frames one by one).
    broken = bombs.wav_lying_rate(seeds["wav"], tmp_path / "rate.wav")
    with pytest.raises(MediaError, match=r"sample rate of 134,239,778 Hz; the header is probably corrupt"):
        load_audio(broken)
    assert load_audio(seeds["wav"]).size > 16_000  # the real WAV it came from reads (over a second of speech)


def test_a_damaged_audio_timestamp_cannot_fill_hundreds_of_megabytes_of_silence(
    seeds: dict[str, Path], tmp_path: Path
) -> None:
    # Found by the fuzzer (seed 20, input 5351): two flipped bits in a 37 kB AVI put an audio packet hours late;
    # the gap was filled with 143 million samples of silence (546 MB). The run's random sequence is replayed here.
    rng = random.Random(20)
    mp4 = seeds["mp4"].read_bytes()
    for _ in range(5000):
        mutate(mp4, rng)
    avi = seeds["avi"].read_bytes()
    for _ in range(351):
        mutate(avi, rng)
    data, how = mutate(avi, rng)
    assert how == "flip 2 bits; flip 4 bits"  # the same mutant as in the run (the seeds encode identically)
    mutant = tmp_path / "late.avi"
    mutant.write_bytes(data)
    samples = load_audio(mutant)
    assert samples.size <= (probe_media(mutant).duration_s + 1.0) * 16_000  # not 143,181,840
