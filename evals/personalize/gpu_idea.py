"""Train ID-EA and the textual-inversion baseline a few steps on CUDA, generate, and time a step (GPU machines only;
nothing is downloaded).

    python -m evals.personalize.gpu_idea --model SD_DIR [--steps 50] [--photos A.jpg B.jpg ...] [--out DIR]

Without ``--model`` it builds the tiny random pipeline of the tests (machinery and timing only: the portraits are
noise). Photos default to the astronaut and her mirror image. Prints one JSON line per method: the median seconds
per training step (the first, warm-up step left out), first and last loss, seconds to generate, and the identity
similarity of the generated portraits to the photos for every recognizer available (or "no face found").
``--device cpu`` runs the same script on the CPU, to check it on the tiny pipeline where no GPU is at hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--photos", type=Path, nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=Path("out/personalize-gpu"))
    parser.add_argument("--device", default="cuda", help="cuda; cpu only to check the script on the tiny pipeline")
    parser.add_argument("--prompt", default="a portrait of <eileen> as a painter, in the snow")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check is for a GPU machine")
    from evals.samples import astronaut
    from tools.media.image import save_image
    from tools.personalize.generation import generate
    from tools.personalize.metric import identity_scores
    from tools.personalize.model import load_sd, native_size_px, resolve_sd_folder
    from tools.personalize.photos import reference_faces
    from tools.personalize.state import apply, save
    from tools.personalize.training import Trainer
    from tools.personalize.types import PersonalizeOptions

    folder = args.model
    if folder is None:
        from tests.cloak.tiny_sd import build_tiny_sd

        folder = build_tiny_sd(Path(tempfile.mkdtemp()))
    folder = resolve_sd_folder(folder)
    args.out.mkdir(parents=True, exist_ok=True)
    photos = args.photos
    if not photos:
        image = astronaut()
        photos = [
            save_image(args.out / "eileen.png", image),
            save_image(args.out / "eileen-mirror.png", image[:, ::-1]),
        ]
    references = reference_faces(photos, native_size_px(folder))
    templates = ("a photo of {}", "{}") if args.model is None else PersonalizeOptions().templates
    for method in ("id-ea", "textual-inversion"):
        pipe = load_sd(folder, args.device)
        options = PersonalizeOptions(method=method, steps=args.steps, templates=templates)  # type: ignore[arg-type]
        trainer = Trainer(pipe, references, "Eileen", options)
        generator = torch.Generator().manual_seed(0)
        losses, times = [], []
        for _ in range(args.steps):
            started = time.perf_counter()
            losses.append(trainer.step(trainer.sample_batch(generator)))
            _synchronize(args.device)
            times.append(time.perf_counter() - started)
        learned = trainer.personalization(str(folder))
        path = save(learned, args.out / f"eileen-{method}.safetensors")
        fresh = load_sd(folder, args.device)
        started = time.perf_counter()
        images = generate(fresh, apply(learned, fresh), args.prompt, count=2, steps=30 if args.model else 4)
        _synchronize(args.device)
        generate_s = time.perf_counter() - started
        files = [str(save_image(args.out / f"{method}-{i + 1}.png", im)) for i, im in enumerate(images)]
        scores = identity_scores(list(zip(files, images, strict=True)), photos)
        print(
            json.dumps(
                {
                    "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
                    "model": str(folder),
                    "method": method,
                    "steps": args.steps,
                    "seconds_per_step": statistics.median(times[1:] or times),
                    "first_step_s": times[0],
                    "loss_first": losses[0],
                    "loss_last": losses[-1],
                    "file": str(path),
                    "file_bytes": path.stat().st_size,
                    "generate_s": generate_s,
                    "identity": [
                        {
                            "file": s.file,
                            **{
                                r.recognizer: r.similarity if r.similarity is not None else r.note
                                for r in s.recognizers
                            },
                        }
                        for s in scores
                    ],
                }
            ),
            flush=True,
        )
        del pipe, fresh, trainer
        if args.device == "cuda":
            torch.cuda.empty_cache()


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


if __name__ == "__main__":
    main()
