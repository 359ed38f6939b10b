"""``mien personalize train|generate``: learn a person from a few photos (ID-EA, or the textual-inversion baseline)
on a local Stable Diffusion model, then generate portraits of them from prompts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.cli.output import console, emit_json, err_console
from tools.personalize import GenerationResult, PersonalizeOptions, TrainReport, generate_portraits, train_person

personalize_app = typer.Typer(help="Identity-preserving portraits from a few photos (ID-EA).", no_args_is_help=True)


@personalize_app.command("train")
def train(
    name: str = typer.Argument(..., help="The person's name; prompts then say <name>."),
    photos: list[Path] = typer.Argument(..., help="A handful of photos, each showing only this person's face."),
    model: Path | None = typer.Option(None, "--model", help="Stable Diffusion folder (diffusers); else MIEN_SD_MODEL."),
    steps: int = typer.Option(400, "--steps", min=1, help="Training steps."),
    baseline: bool = typer.Option(False, "--baseline", help="Plain textual inversion instead of ID-EA (comparison)."),
    tokens: int = typer.Option(1, "--tokens", min=1, help="Pseudo-tokens the name stands for."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    out: Path | None = typer.Option(None, "--out", help="Where to save (.safetensors); default MIEN_HOME/personalize."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON for scripts."),
) -> None:
    """Learn NAME from PHOTOS; saves the learned tokens and adapter as one small .safetensors file."""
    options = PersonalizeOptions(
        method="textual-inversion" if baseline else "id-ea", steps=steps, tokens=tokens, seed=seed
    )
    with _step_progress("training", enabled=not as_json) as progress:
        report = train_person(name, photos, model, options, out=out, progress=progress, device=device)
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(train_summary(report))


@personalize_app.command("generate")
def generate(
    name: str = typer.Argument(..., help="A trained person's name (or a .safetensors file)."),
    prompt: str = typer.Argument(..., help="The prompt, naming the person as <name> (or by name)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the portraits to."),
    model: Path | None = typer.Option(None, "--model", help="Stable Diffusion folder; default: the one trained on."),
    count: int = typer.Option(1, "--count", "-n", min=1, help="Portraits to generate."),
    steps: int = typer.Option(30, "--steps", min=1, help="Denoising steps."),
    guidance: float = typer.Option(7.5, "--guidance", help="Classifier-free guidance scale."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the result is deterministic for a seed)."),
    clip: Path | None = typer.Option(None, "--clip", help="transformers CLIP folder for prompt fidelity."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON for scripts."),
) -> None:
    """Generate portraits of NAME for PROMPT into --out, scored for identity by every recognizer available."""
    result = generate_portraits(
        name,
        prompt,
        out,
        model=model,
        count=count,
        steps=steps,
        guidance=guidance,
        seed=seed,
        clip_dir=clip,
        device=device,
    )
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(generation_summary(result))


def train_summary(report: TrainReport) -> str:
    """What was learned, how fast, and where it was saved."""
    first, last = report.losses[0], report.losses[-1]
    return (
        f"learned {report.name!r} ({report.method}) from {len(report.photos)} photo(s) in {report.steps} steps, "
        f"{report.seconds_per_step:.2f} s/step on {report.device}; loss {first:.4f} -> {last:.4f} "
        f"({report.trainable_parameters:,} trainable parameters)\n"
        f"saved {report.file} ({report.file_bytes or 0:,} bytes)"
    )


def generation_summary(result: GenerationResult) -> str:
    """One line per portrait: the file and what each recognizer measured (or that it found no face)."""
    lines = [f"{len(result.files)} portrait(s) of {result.name!r} ({result.method}) in {result.seconds:.1f} s"]
    for score in result.scores:
        parts = []
        for item in score.recognizers:
            if item.similarity is None:
                parts.append(f"{item.recognizer}: {item.note}")
            else:
                verdict = "same person" if item.same_person else "not the same person"
                parts.append(
                    f"{item.recognizer}: identity similarity {item.similarity:.3f} ({verdict} at {item.threshold:g})"
                )
        if score.clip_score is not None:
            parts.append(f"CLIPScore {score.clip_score:.1f}")
        lines.append(f"{score.file}: " + "; ".join(parts))
    if not result.scores:
        lines += result.files
    lines += [f"[yellow]{note}[/yellow]" for note in result.notes]
    return "\n".join(lines)


@contextmanager
def _step_progress(label: str, enabled: bool) -> Iterator[Callable[[int, int, float], None] | None]:
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=None, loss="-")

        def update(done: int, total: int, loss: float) -> None:
            progress.update(task, completed=done, total=total, loss=f"{loss:.4f}")

        yield update


def register(app: typer.Typer) -> None:
    app.add_typer(personalize_app, name="personalize")
