"""Rebuild the embedded attack-model weights: synthesize the dataset from real photos, train, evaluate, save.

    python scripts/train_attack_weights.py            # seed 0, 8 epochs: the committed weights
    python scripts/train_attack_weights.py --quick    # no ablation, no leave-one-out (weights only)

Writes ``tools/attack/weights/fa3-small.pt`` (the weights and validation threshold) and ``fa3-small.json`` (the
command, seed, data, timings and every metric of the run: the full model, the ablation without the frequency stream
and leave-one-attack-type-out, all on held-out identities and held-out synthesis settings). One torch thread;
timings depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.attack.dataset import write_synthetic_dataset
from tools.attack.detector import DEFAULT_WEIGHTS
from tools.attack.experiment import run_experiment
from tools.attack.training import save_checkpoint
from tools.attack.types import ATTACK_TYPES
from tools.storage import atomic_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--data", type=Path, default=None, help="Keep the synthesized dataset here (reused when its seed matches)."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--quick", action="store_true", help="Skip the ablation and leave-one-out runs.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mien-attack-data-") as temp:
        data = args.data or Path(temp)
        manifest = data / "synthesis.json"
        if args.data is not None and manifest.is_file() and json.loads(manifest.read_text())["seed"] == args.seed:
            print(f"reusing the dataset synthesized with seed {args.seed} in {data}", flush=True)
        else:
            print(f"synthesizing attacks from real photos into {data}", flush=True)
            counts = write_synthetic_dataset(data, seed=args.seed)
            print(f"synthesized in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
        synth_s = time.perf_counter() - started
        trained, report = run_experiment(
            data,
            seed=args.seed,
            epochs=args.epochs,
            ablation=not args.quick,
            leave_out=() if args.quick else ATTACK_TYPES,
            log=lambda line: print(line, flush=True),
        )
    trained.provenance.update(command=f"python scripts/{Path(__file__).name} " + shlex.join(sys.argv[1:]))
    save_checkpoint(trained, args.out)
    card = {
        "command": trained.provenance["command"],
        "seed": args.seed,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "synthesis_seconds": round(synth_s, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "trained_on": "attacks synthesized (tools/attack/synthesis.py) from the real photos in packages "
        "(tools/attack/sources.py); test = held-out identities and held-out synthesis settings",
        **report,
    }
    card["data_dir"] = "(temporary)" if args.data is None else str(args.data)
    with atomic_path(args.out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps({k: v["metrics"] for k, v in report.items() if isinstance(v, dict) and "metrics" in v}, indent=2))
    for kind, run in report.get("leave_one_out", {}).items():
        print(f"leave out {kind}: {json.dumps(run['metrics'])}")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB) in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
