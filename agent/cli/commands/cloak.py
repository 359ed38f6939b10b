"""``mien cloak IN OUT``: protect a photo from face recognition (or make it match someone else), natural-looking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.cli.output import console, emit_json, err_console
from tools.cloak import STRENGTHS, CloakOptions, CloakResult, cloak_file
from tools.errors import ConfigError, MediaError
from tools.media import probe_media


def cloak(
    in_path: Path = typer.Argument(..., metavar="IN", help="Photo to protect."),
    out_path: Path = typer.Argument(..., metavar="OUT", help="Where to write the protected photo (.png or .jpg)."),
    target: Path | None = typer.Option(None, "--target", help="A photo of someone to look like (impersonation)."),
    strength: str = typer.Option("mid", "--strength", help="low | mid | high: more protection, more change."),
    face: int | None = typer.Option(None, "--face", help="Cloak only face N (1-based, left to right)."),
    method: str = typer.Option("pixel", "--method", help="pixel (default) | diffaim (needs --model)."),
    model: Path | None = typer.Option(
        None, "--model", help="Stable Diffusion folder (diffusers) for --method diffaim."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (the result is deterministic for a seed)."),
    small_faces: bool = typer.Option(False, "--small-faces", help="Also try faces under 40 px (weak protection)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON for scripts."),
) -> None:
    """Change the faces in IN imperceptibly so face recognition no longer matches them; write OUT."""
    if strength not in STRENGTHS:
        raise ConfigError(f"unknown --strength {strength!r}; choose one of {', '.join(STRENGTHS)}")
    if method not in ("pixel", "diffaim"):
        raise ConfigError(f"unknown --method {method!r}; choose pixel or diffaim")
    if method == "diffaim" and model is None:
        raise ConfigError("--method diffaim needs --model SD_DIR (a Stable Diffusion folder in diffusers layout)")
    if probe_media(in_path).kind != "image":
        raise MediaError(f"{in_path}: mien cloak takes a photo (an image file)")
    options = CloakOptions(
        strength=strength,  # type: ignore[arg-type]
        method=method,  # type: ignore[arg-type]
        face=face,
        target=str(target) if target else None,
        seed=seed,
        sd_model=str(model) if model else None,
        allow_small_faces=small_faces,
    )
    with _step_progress(enabled=not as_json) as progress:
        result = cloak_file(in_path, out_path, options, progress=progress)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(summary(result))


def summary(result: CloakResult) -> str:
    """A few lines a person reads: what was written, and per face what the recognizer now measures."""
    lines = [
        f"wrote {result.output} ({result.goal}, {result.method}, strength {result.strength}, {result.seconds:.1f} s)"
    ]
    for face in result.faces:
        parts = []
        for name, distance in face.source_distance.items():
            threshold = face.thresholds[name]
            verdict = "no longer matches" if distance >= threshold else "STILL MATCHES"
            parts.append(
                f"{name}: distance to the original {distance:.2f} (same person below {threshold:g}; after JPEG 75 + "
                f"half size {face.source_distance_degraded[name]:.2f}) — {verdict}"
            )
            if face.target_distance:
                parts.append(
                    f"distance to the target {face.target_distance_before[name]:.2f} → {face.target_distance[name]:.2f}"
                )
        lines.append(f"face {face.number}: " + "; ".join(parts))
    lines.append(f"image SSIM {result.ssim:.4f}, PSNR {result.psnr_db:.1f} dB (white-box: measured on the surrogate)")
    lines += [f"[yellow]skipped: {reason}[/yellow]" for reason in result.skipped]
    return "\n".join(lines)


@contextmanager
def _step_progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (TextColumn("cloaking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("cloaking", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def register(app: typer.Typer) -> None:
    app.command("cloak")(cloak)
