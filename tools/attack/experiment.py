"""One evaluation run over a dataset folder: the model, the same model without its frequency stream, and
leave-one-attack-type-out, all on the same splits in the same run (so their numbers are comparable).

Leave-one-out for type T trains and validates without any T sample, then tests on live + T only: how well an
unseen kind of attack is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from tools.attack.dataset import FaceSamples, check_disjoint_subjects, read_split
from tools.attack.model import FA3Config
from tools.attack.training import TrainedModel, evaluate, train_model
from tools.attack.types import LIVE
from tools.errors import ConfigError


def load_splits(data_dir: str | Path, size_px: int) -> dict[str, FaceSamples]:
    splits = {name: read_split(data_dir, name, size_px) for name in ("train", "val", "test")}
    check_disjoint_subjects(splits)
    return splits


def run_experiment(
    data_dir: str | Path,
    seed: int = 0,
    epochs: int = 8,
    ablation: bool = True,
    leave_out: tuple[str, ...] = (),
    config: FA3Config | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[TrainedModel, dict[str, Any]]:
    """Train and test on ``data_dir``; returns the full model and a JSON-able report of every run."""
    torch.set_num_threads(1)
    config = config or FA3Config()
    say = log or (lambda _: None)
    splits = load_splits(data_dir, config.input_size)
    attack_kinds = sorted(set(splits["train"].labels) - {LIVE})
    for kind in leave_out:
        if kind not in attack_kinds:
            raise ConfigError(f"cannot leave out {kind!r}: the training data has only {attack_kinds}")
    report: dict[str, Any] = {
        "data_dir": str(data_dir),
        "seed": seed,
        "epochs": epochs,
        "counts": {name: samples.counts for name, samples in splits.items()},
        "subjects": {name: len(set(samples.subjects)) for name, samples in splits.items()},
        "skipped_images": {name: samples.skipped for name, samples in splits.items()},
    }
    say("training the full model (spatial + frequency streams)")
    full = train_model(splits["train"], splits["val"], config, epochs, seed=seed, log=say)
    report["full"] = {"metrics": evaluate(full, splits["test"]).to_dict(), **full.provenance}
    if ablation:
        say("training the ablation without the frequency stream")
        plain = train_model(
            splits["train"], splits["val"], replace(config, use_frequency=False), epochs, seed=seed, log=say
        )
        report["no_frequency"] = {"metrics": evaluate(plain, splits["test"]).to_dict(), **plain.provenance}
    report["leave_one_out"] = {}
    for kind in leave_out:
        say(f"leave-one-attack-type-out: training without {kind}")
        keep = {LIVE, *attack_kinds} - {kind}
        model = train_model(splits["train"].only(keep), splits["val"].only(keep), config, epochs, seed=seed, log=say)
        metrics = evaluate(model, splits["test"].only({LIVE, kind}))
        report["leave_one_out"][kind] = {"metrics": metrics.to_dict(), **model.provenance}
    return full, report
