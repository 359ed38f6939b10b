"""Physiological signals: CSV and EDF round trips, alignment to video time, and per-interval features, on signals
synthesized here with known events (heart rate 60 -> 90 bpm at 20 s, an EDA rise of 0.5 uS at 21 s, breathing
twice as deep from 20 s, skin 0.3 C warmer)."""

from __future__ import annotations

import numpy as np
import pytest

from tools.errors import MediaError
from tools.spotting.physio import Channel, Signals, attach_physiology, interval_features, read_signals
from tools.spotting.physio.signals import kind_of, write_edf
from tools.spotting.types import ExpressionInterval, SpottingResult

EVENT_S = 20.0


def pulse(rate_hz: float, seconds: float) -> np.ndarray:
    """A PPG-like wave: 60 bpm until EVENT_S, 90 bpm after (phase continuous)."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    bpm = np.where(t < EVENT_S, 60.0, 90.0)
    phase = np.cumsum(bpm / 60.0) / rate_hz
    return ((1.0 + np.sin(2 * np.pi * phase)) / 2.0) ** 8  # narrow peaks, one per beat


def channels(seconds: float = 40.0) -> list[Channel]:
    eda_t = np.arange(int(seconds * 4)) / 4.0
    rsp_t = np.arange(int(seconds * 25)) / 25.0
    skt_t = np.arange(int(seconds * 1)) / 1.0
    return [
        Channel("PPG finger", "PPG", 64.0, 0.0, pulse(64.0, seconds)),
        Channel("EDA", "EDA", 4.0, 0.0, 2.0 + 0.5 * np.clip(eda_t - (EVENT_S + 1.0), 0.0, 1.0)),
        Channel("RSP belt", "RSP", 25.0, 0.0, np.sin(2 * np.pi * 0.25 * rsp_t) * np.where(rsp_t < EVENT_S, 1.0, 2.0)),
        Channel("SKT", "SKT", 1.0, 0.0, 33.0 + 0.3 * (skt_t >= EVENT_S)),
    ]


def interval(onset_s: float = EVENT_S, offset_s: float = EVENT_S + 0.3) -> ExpressionInterval:
    return ExpressionInterval(1, round(onset_s * 30), round(onset_s * 30) + 4, round(offset_s * 30), onset_s,
                              onset_s + 0.1, offset_s, "micro", 2.0)


def write_csv(path, chans: list[Channel], shift_s: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """One row per sample time of any channel; a channel's cell is empty where it has no sample."""
    rows: dict[float, dict[str, float]] = {}
    for c in chans:
        for t, v in zip(c.times_s(), c.values, strict=True):
            rows.setdefault(round(float(t) + shift_s, 6), {})[c.name] = float(v)
    lines = ["time_s," + ",".join(c.name for c in chans)]
    for t in sorted(rows):
        lines.append(f"{t}," + ",".join(str(rows[t].get(c.name, "")) for c in chans))
    path.write_text("\n".join(lines) + "\n")


def check_features(features: dict[str, float]) -> None:
    assert features["hr_before_bpm"] == pytest.approx(60.0, abs=1.5)
    assert features["hr_after_bpm"] == pytest.approx(90.0, abs=2.5)
    assert features["hr_change_bpm"] == pytest.approx(30.0, abs=3.0)
    assert features["eda_rise"] == pytest.approx(0.5, abs=0.01)
    assert features["rsp_amplitude_ratio"] == pytest.approx(2.0, abs=0.15)
    assert features["skt_change"] == pytest.approx(0.3, abs=0.01)


def test_kinds_come_from_channel_names() -> None:
    assert [kind_of(n) for n in ("PPG finger", "EEG Fz", "ecg lead II", "GSR", "Resp", "temp", "x")] == [
        "PPG", "EEG", "ECG", "EDA", "RSP", "SKT", "other"]


def test_features_of_an_interval_at_the_event() -> None:
    check_features(interval_features(interval(), Signals("synthetic", channels())))


def test_an_interval_far_from_the_event_shows_no_change() -> None:
    features = interval_features(interval(8.0, 8.3), Signals("synthetic", channels()))
    assert features["hr_change_bpm"] == pytest.approx(0.0, abs=2.0)
    assert features["eda_rise"] == pytest.approx(0.0, abs=1e-9)


def test_csv_with_channels_at_their_own_rates_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "signals.csv"
    write_csv(path, channels())
    signals = read_signals(path)
    rates = {c.name: c.rate_hz for c in signals.channels}
    assert rates == {"PPG finger": pytest.approx(64.0), "EDA": pytest.approx(4.0), "RSP belt": pytest.approx(25.0),
                     "SKT": pytest.approx(1.0)}
    check_features(interval_features(interval(), signals))


def test_edf_round_trips_and_its_video_start_annotation_sets_the_clock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_edf(tmp_path / "signals.edf", channels(), video_start_s=2.0)
    signals = read_signals(path)
    assert sorted(c.kind for c in signals.channels) == ["EDA", "PPG", "RSP", "SKT"]
    assert all(c.start_s == pytest.approx(-2.0) for c in signals.channels)
    # The event at 20 s of the recording is at 18 s of the video.
    check_features(interval_features(interval(EVENT_S - 2.0, EVENT_S - 1.7), signals))


def test_signals_that_do_not_overlap_the_video_are_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "late.csv"
    write_csv(path, channels(10.0), shift_s=500.0)
    result = SpottingResult("clip.mp4", 30.0, 300, 10.0, "test", [interval(5.0, 5.3)])
    with pytest.raises(MediaError, match="do not overlap"):
        attach_physiology(result, read_signals(path))
    attached = attach_physiology(result, read_signals(path, offset_s=-500.0))
    assert "eda_rise" in attached.intervals[0].physiology


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.txt", "x", "must be a .csv"),
        ("s.csv", "a,b\n1,2\n", "time_s column"),
        ("s.csv", "time_s,PPG\n0,x\n", "not a number"),
        ("s.edf", "not an edf", "not a readable EDF"),
    ],
)
def test_bad_signal_files_are_clear_errors(tmp_path, name: str, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(MediaError, match=message):
        read_signals(path)
