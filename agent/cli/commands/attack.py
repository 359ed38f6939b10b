"""``mien attack synthesize|train|evaluate``: the face attack model on a dataset folder (layout: docs/attack.md).

``train`` picks the decision threshold on val/ only, reports ACER, APCER, BPCER, AUC and EER on test/, trains the
ablation without the frequency stream in the same run (``--no-ablation`` skips it) and, with
``--leave-one-out``, one model per left-out attack type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from agent.cli.output import console, emit_json, err_console
from tools.attack.types import ATTACK_TYPES
from tools.errors import ConfigError
from tools.storage import atomic_path

attack_app = typer.Typer(help="Train and evaluate the face attack (anti-spoofing) model.", no_args_is_help=True)


def _metrics_table(title: str, runs: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in ("run", "ACER", "APCER", "BPCER", "AUC", "EER", "threshold (val)", "APCER by type"):
        table.add_column(column)
    for name, run in runs.items():
        m = run["metrics"]
        by_type = " ".join(f"{k} {v:.2f}" for k, v in m["apcer_by_type"].items())
        table.add_row(
            name,
            f"{m['acer']:.3f}",
            f"{m['apcer']:.3f}",
            f"{m['bpcer']:.3f}",
            f"{m['auc']:.3f}",
            f"{m['eer']:.3f}",
            f"{m['threshold']:.3f}",
            by_type,
        )
    return table


def _runs(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {
        name: report[name] for name in ("full", "no_frequency", "evaluated") if name in report
    }
    runs.update({f"leave out {kind}": run for kind, run in report.get("leave_one_out", {}).items()})
    return runs


@attack_app.command("synthesize")
def synthesize(
    out_dir: Path = typer.Argument(..., help="Folder to write train/ val/ test/ into."),
    seed: int = typer.Option(0, "--seed"),
    no_lfw: bool = typer.Option(False, "--no-lfw", help="Only the ten full-colour photos, not the 100 LFW crops."),
) -> None:
    """Synthesize print / replay / mask / digital attacks from the real photos in packages, in the folder layout."""
    from tools.attack.dataset import write_synthetic_dataset

    counts = write_synthetic_dataset(out_dir, seed=seed, lfw=not no_lfw)
    console.print(f"wrote {sum(sum(c.values()) for c in counts.values())} crops to {out_dir}: {counts}")


@attack_app.command("train")
def train(
    data_dir: Path = typer.Argument(..., help="Dataset folder: train/ val/ test/, each with live/ and attack folders."),
    out: Path | None = typer.Option(None, "--out", help="Save the trained weights here (.pt)."),
    epochs: int = typer.Option(8, "--epochs", min=1),
    seed: int = typer.Option(0, "--seed"),
    leave_one_out: bool = typer.Option(False, "--leave-one-out", help="Also one run per left-out attack type."),
    leave_out: list[str] = typer.Option([], "--leave-out", help="Leave out this attack type (repeatable)."),
    no_ablation: bool = typer.Option(False, "--no-ablation", help="Skip the run without the frequency stream."),
    report: Path | None = typer.Option(None, "--report", help="Write the JSON report here."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Train on train/, threshold on val/, metrics on test/ (plus the ablation and leave-one-out runs)."""
    from tools.attack.experiment import run_experiment
    from tools.attack.training import save_checkpoint

    unknown = [kind for kind in leave_out if kind not in ATTACK_TYPES]
    if unknown:
        raise ConfigError(f"unknown attack types {unknown}; known: {list(ATTACK_TYPES)}")
    kinds = tuple(ATTACK_TYPES) if leave_one_out else tuple(leave_out)
    if leave_one_out:
        from tools.attack.experiment import load_splits

        present = set(load_splits(data_dir, 64)["train"].labels)
        kinds = tuple(kind for kind in ATTACK_TYPES if kind in present)
    say = (lambda line: None) if as_json else (lambda line: err_console.print(line))
    trained, result = run_experiment(
        data_dir, seed=seed, epochs=epochs, ablation=not no_ablation, leave_out=kinds, log=say
    )
    if out is not None:
        trained.provenance["command"] = f"mien attack train {data_dir} --epochs {epochs} --seed {seed}"
        save_checkpoint(trained, out)
        result["weights"] = str(out)
    _finish(result, report, as_json, f"attack model on {data_dir} (threshold from val/, metrics on test/)")


@attack_app.command("evaluate")
def evaluate(
    data_dir: Path = typer.Argument(..., help="Dataset folder with test/ (and val/ to re-pick the threshold)."),
    weights: Path | None = typer.Option(None, "--weights", help="Weights (.pt); default: the configured model."),
    rethreshold: bool = typer.Option(False, "--rethreshold", help="Pick the threshold on this dataset's val/."),
    report: Path | None = typer.Option(None, "--report", help="Write the JSON report here."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Metrics of trained weights on test/ at their stored validation threshold (or one from this val/)."""
    from tools.attack.dataset import read_split
    from tools.attack.detector import get_attack_detector
    from tools.attack.metrics import validation_threshold
    from tools.attack.training import TrainedModel, predict
    from tools.attack.training import evaluate as evaluate_model

    detector = get_attack_detector(weights)
    trained = detector.trained
    if rethreshold:
        val = read_split(data_dir, "val", detector.input_size)
        trained = TrainedModel(
            trained.model, validation_threshold(predict(trained.model, val.images)[0].tolist(), val.labels)
        )
    test = read_split(data_dir, "test", detector.input_size)
    result = {
        "data_dir": str(data_dir),
        "weights": detector.name,
        "counts": {"test": test.counts},
        "evaluated": {"metrics": evaluate_model(trained, test).to_dict()},
    }
    _finish(result, report, as_json, f"{detector.name} on {data_dir}/test")


def _finish(result: dict[str, Any], report: Path | None, as_json: bool, title: str) -> None:
    import json

    if report is not None:
        with atomic_path(report) as tmp:
            tmp.write_text(json.dumps(result, indent=2) + "\n")
    if as_json:
        emit_json(result)
        return
    console.print(_metrics_table(title, _runs(result)))
    if report is not None:
        console.print(f"report: {report}")


def register(app: typer.Typer) -> None:
    app.add_typer(attack_app, name="attack")
