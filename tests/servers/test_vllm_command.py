"""The vLLM command line Mien builds, its checks, and client-side frame sampling with qwen-vl-utils on real media.

vLLM itself is GPU-only and not installed here; what is tested is the exact command handed to it, and that images
and video frames become OpenAI image parts within the pixel budget the server is told about.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from agent.cli import main
from evals import samples
from servers.local.protocol import ChatCompletionRequest, ImagePart, TextPart
from servers.vllm.command import build_command, format_command
from servers.vllm.config import PixelBudget, VllmServeConfig
from servers.vllm.frames import as_message_content, fit_image, frame_parts, image_part, sample_video_frames
from servers.vllm.launcher import check_model_folder, ensure_vllm_installed
from tools.errors import ConfigError, MediaError, ModelUnavailableError


def _option(command: list[str], flag: str) -> str:
    assert command.count(flag) == 1, f"{flag} should appear once in {command}"
    return command[command.index(flag) + 1]


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "Qwen2.5-VL-3B-Instruct"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    return folder


# ---------------------------------------------------------------- the command line


def test_default_command_serves_qwen_vl_with_tools_and_multimodal_limits(model_folder: Path) -> None:
    command = build_command(VllmServeConfig(model_path=model_folder), python="/usr/bin/python3")
    assert command[:3] == ["/usr/bin/python3", "-m", "vllm.entrypoints.openai.api_server"]
    assert _option(command, "--model") == str(model_folder)
    assert _option(command, "--served-model-name") == "Qwen2.5-VL-3B-Instruct"
    assert _option(command, "--host") == "127.0.0.1"
    assert _option(command, "--port") == "8000"
    assert _option(command, "--dtype") == "auto"
    assert _option(command, "--max-model-len") == "32768"
    assert _option(command, "--gpu-memory-utilization") == "0.9"
    assert _option(command, "--tensor-parallel-size") == "1"
    assert json.loads(_option(command, "--limit-mm-per-prompt")) == {"image": 8, "video": 1}
    assert json.loads(_option(command, "--mm-processor-kwargs")) == {
        "min_pixels": 128 * 28 * 28,
        "max_pixels": 768 * 28 * 28,
        "fps": 2.0,
    }
    assert "--enable-auto-tool-choice" in command
    assert _option(command, "--tool-call-parser") == "hermes"
    for absent in ("--trust-remote-code", "--enforce-eager", "--api-key", "--max-num-seqs"):
        assert absent not in command


def test_every_setting_reaches_the_command(model_folder: Path) -> None:
    config = VllmServeConfig(
        model_path=model_folder,
        served_model_name="mien-vlm",
        host="0.0.0.0",
        port=9000,
        dtype="bfloat16",
        max_model_len=16384,
        gpu_memory_utilization=0.75,
        tensor_parallel_size=2,
        max_num_seqs=16,
        max_images_per_prompt=16,
        max_videos_per_prompt=0,
        pixels=PixelBudget(min_pixels=256 * 28 * 28, max_pixels=1280 * 28 * 28),
        video_fps=1.0,
        trust_remote_code=True,
        enforce_eager=True,
        api_key="secret-key",
        extra_args=("--seed", "0"),
    )
    command = build_command(config)
    assert _option(command, "--served-model-name") == "mien-vlm"
    assert _option(command, "--host") == "0.0.0.0"
    assert _option(command, "--port") == "9000"
    assert _option(command, "--dtype") == "bfloat16"
    assert _option(command, "--max-model-len") == "16384"
    assert _option(command, "--gpu-memory-utilization") == "0.75"
    assert _option(command, "--tensor-parallel-size") == "2"
    assert _option(command, "--max-num-seqs") == "16"
    assert json.loads(_option(command, "--limit-mm-per-prompt")) == {"image": 16, "video": 0}
    assert json.loads(_option(command, "--mm-processor-kwargs")) == {
        "min_pixels": 200704,
        "max_pixels": 1003520,
        "fps": 1.0,
    }
    assert "--trust-remote-code" in command and "--enforce-eager" in command
    assert command[-2:] == ["--seed", "0"]
    assert config.base_url == "http://127.0.0.1:9000/v1"
    shown = format_command(command)
    assert "secret-key" not in shown and "--api-key '***'" in shown
    assert '--limit-mm-per-prompt \'{"image": 16, "video": 0}\'' in shown


def test_tool_flags_can_be_left_out(model_folder: Path) -> None:
    command = build_command(VllmServeConfig(model_path=model_folder, enable_auto_tool_choice=False))
    assert "--enable-auto-tool-choice" not in command and "--tool-call-parser" not in command


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"pixels": {"min_pixels": 602112, "max_pixels": 100352}}, "exceeds max_pixels"),
        ({"gpu_memory_utilization": 1.5}, "less than or equal to 1"),
        ({"dtype": "int3"}, "dtype"),
        ({"port": 0}, "greater than or equal to 1"),
        ({"max_images_per_prompt": -1}, "greater than or equal to 0"),
    ],
)
def test_invalid_settings_are_refused(model_folder: Path, fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        VllmServeConfig.model_validate({"model_path": model_folder, **fields})


def test_model_folder_checks(tmp_path: Path, model_folder: Path) -> None:
    check_model_folder(VllmServeConfig(model_path=model_folder))
    with pytest.raises(ConfigError, match="does not exist"):
        check_model_folder(VllmServeConfig(model_path=tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"no config\.json"):
        check_model_folder(VllmServeConfig(model_path=tmp_path))


def test_missing_vllm_is_a_clear_error(
    model_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec
    # Where vLLM is installed (a GPU machine), hide it so that its absence can still be reported.
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real_find_spec(name, *a)
    )
    with pytest.raises(ModelUnavailableError, match=r"pip install mien\[gpu\]"):
        ensure_vllm_installed()
    code = main(["serve", "vllm", "--model", str(model_folder)])
    err = capsys.readouterr().err
    assert code == ModelUnavailableError.exit_code
    assert err.startswith("mien: error: vLLM is not installed") and err.count("\n") == 1


def test_cli_dry_run_prints_the_command(model_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "vllm", "--model", str(model_folder), "--port", "8123", "--max-images", "4", "--dry-run"])
    out = capsys.readouterr().out.strip()
    assert code == 0
    assert "-m vllm.entrypoints.openai.api_server" in out
    assert f"--model {model_folder}" in out and "--port 8123" in out
    assert '--limit-mm-per-prompt \'{"image": 4, "video": 1}\'' in out
    assert out.endswith("--enable-auto-tool-choice --tool-call-parser hermes")


def test_cli_refuses_inconsistent_pixel_budgets(model_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "vllm", "--model", str(model_folder), "--min-pixels", "999999999", "--dry-run"])
    assert code == ConfigError.exit_code
    assert "min_pixels (999999999) exceeds max_pixels" in capsys.readouterr().err


# ---------------------------------------------------------------- frames as image parts (qwen-vl-utils)


def _decoded(part: ImagePart) -> np.ndarray:
    header, _, payload = part.image_url.url.partition(",")
    assert header == "data:image/jpeg;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def test_an_image_is_resized_to_the_pixel_budget(astronaut: np.ndarray) -> None:
    budget = PixelBudget(min_pixels=64 * 28 * 28, max_pixels=128 * 28 * 28)
    fitted = fit_image(astronaut, budget)
    height, width = fitted.shape[:2]
    assert fitted.dtype == np.uint8 and fitted.shape[2] == 3
    assert height % 28 == 0 and width % 28 == 0
    assert budget.min_pixels <= height * width <= budget.max_pixels
    assert (height, width) == (308, 308)  # 512x512 scaled to fit 100,352 px, floored to multiples of 28


def test_an_image_part_decodes_to_the_fitted_image(astronaut: np.ndarray) -> None:
    part = image_part(astronaut)
    decoded = _decoded(part)
    fitted = fit_image(astronaut)
    assert decoded.shape == fitted.shape == (504, 504, 3)
    assert np.abs(decoded.astype(int) - fitted.astype(int)).mean() < 4  # JPEG at quality 90
    request = ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": as_message_content([part])}]}
    )
    assert len(request.messages[0].image_parts()) == 1


def test_an_image_file_is_read_and_resized() -> None:
    fitted = fit_image(samples.group_photo_path())
    assert fitted.shape[0] % 28 == 0 and fitted.shape[1] % 28 == 0
    assert fitted.shape[0] * fitted.shape[1] <= PixelBudget().max_pixels
    assert fitted.shape[1] > fitted.shape[0]  # t1.jpg is landscape


def test_video_frames_are_sampled_with_their_times(pan_clip: Path) -> None:
    budget = PixelBudget(min_pixels=32 * 28 * 28, max_pixels=96 * 28 * 28)
    frames = sample_video_frames(pan_clip, fps=1.0, max_frames=6, budget=budget)
    times = [frame.time_s for frame in frames]
    assert 2 <= len(frames) <= 6 and len(frames) % 2 == 0
    assert times == sorted(times) and times[0] == 0.0 and times[-1] <= 4.0
    assert times[-1] - times[0] >= 2.0  # spread over the 4 s clip, not bunched at the start
    for frame in frames:
        height, width = frame.image.shape[:2]
        assert frame.image.dtype == np.uint8
        assert height % 28 == 0 and width % 28 == 0 and height * width <= budget.max_pixels
    assert not np.array_equal(frames[0].image, frames[-1].image)  # the camera pans

    parts = frame_parts(frames)
    assert [type(part) for part in parts] == [TextPart, ImagePart] * len(frames)
    assert parts[0] == TextPart(text="Frame at 0.00 s:")
    assert _decoded(parts[-1]).shape == frames[-1].image.shape  # type: ignore[arg-type]


def test_sampling_frames_from_bad_input_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        sample_video_frames(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="not a video"):
        sample_video_frames(samples.group_photo_path())
