"""How verification similarity falls as real faces are turned (defrontalization), for every recognizer here.

Each face (``evals.augment.faces``) is rendered turned by 0, ±15, ±30, ±45 and ±60 degrees of yaw
(``tools.augment.turn_face``); the turned face is looked for again by the face pipeline (detection rate), and
each recognizer compares it with the original face: cosine similarity, and the share still at or above the
recognizer's match threshold. The yaw-0 row is the baseline measured in the same run: the render's own loss
(resampling) with no turn. For scale, the table also gives the impostor level: the mean and the highest cosine
between different people's original faces.

    python -m evals.augment.pose_verification [--out out/augment] [--lfw 20] [--no-sheet]

Writes pose_verification.md (the table), pose_verification.json (every measurement), pose_verification.png (the
plot) and contact_sheet.png (the astronaut and the t1.jpg faces at -60..60 degrees) into ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evals.augment.faces import GEOMETRY, Recognizer, SampleFace, lfw_faces, matching_face, photo_faces, recognizers
from tools.augment import turn_face
from tools.augment.types import MAX_RESULT_YAW_DEG, SOURCE_YAW_REFUSE_DEG
from tools.faces.mesh_mediapipe import five_points_from_mesh
from tools.faces.pipeline import analyze_image
from tools.faces.pose import pose_from_mesh
from tools.faces.types import Face
from tools.storage import atomic_write_bytes

TURNS = (0.0, 15.0, 30.0, 45.0, 60.0)


@dataclass(frozen=True)
class Measurement:
    """One face turned by one angle, judged by every recognizer."""

    face: str
    group: str
    turn_deg: float
    source_yaw_deg: float
    detected: bool
    measured_yaw_deg: float | None
    similarity: dict[str, float]
    render_s: float

    @property
    def absolute_bin_deg(self) -> float:
        """The face's own yaw after the turn (the photo's yaw + the turn), to the nearest 15 degrees, unsigned."""
        return float(15.0 * round(abs(self.source_yaw_deg + self.turn_deg) / 15.0))


def measure_face(sample: SampleFace, judges: list[Recognizer], turns: tuple[float, ...]) -> list[Measurement]:
    """Every signed turn of ``sample`` judged against the original face."""
    originals = {r.name: r.embed(sample.image, sample.face) for r in judges}
    source_yaw = pose_from_mesh(sample.mesh).yaw_deg
    out = []
    for turn in sorted({s * t for t in turns for s in (1.0, -1.0)}):
        if abs(source_yaw + turn) > MAX_RESULT_YAW_DEG:
            continue  # past a profile: `mien augment pose` refuses it
        turned = turn_face(sample.image, sample.mesh, turn)
        found = matching_face(analyze_image(turned.image, GEOMETRY), turned.box)
        probe = found or Face(turned.box, 1.0, landmarks5=five_points_from_mesh(turned.mesh))
        similarity = {r.name: float(np.dot(originals[r.name], r.embed(turned.image, probe))) for r in judges}
        measured = pose_from_mesh(found.mesh).yaw_deg if found is not None and found.mesh is not None else None
        out.append(
            Measurement(
                sample.name, sample.group, turn, source_yaw, found is not None, measured, similarity, turned.seconds
            )
        )
    return out


def impostor_levels(samples: list[SampleFace], judges: list[Recognizer]) -> dict[str, dict[str, float]]:
    """Mean and highest cosine between different people's original faces, per recognizer."""
    out = {}
    for judge in judges:
        vectors = [judge.embed(s.image, s.face) for s in samples]
        pairs = [float(np.dot(a, b)) for a, b in itertools.combinations(vectors, 2)]
        out[judge.name] = {"mean": float(np.mean(pairs)), "max": float(np.max(pairs)), "pairs": len(pairs)}
    return out


def summarise(
    rows: list[Measurement], judges: list[Recognizer], group: str, absolute: bool = False
) -> list[dict[str, object]]:
    """Per |turn| (or, with ``absolute``, per 15-degree bin of the face's own yaw after the turn): detection rate,
    and per recognizer mean cosine and the share at or above its threshold."""

    def key(row: Measurement) -> float:
        return row.absolute_bin_deg if absolute else abs(row.turn_deg)

    table = []
    for turn in sorted({key(r) for r in rows}):
        chosen = [r for r in rows if r.group == group and key(r) == turn]
        if not chosen:
            continue
        entry: dict[str, object] = {
            "turn_deg": turn,
            "renders": len(chosen),
            "detected": float(np.mean([r.detected for r in chosen])),
        }
        for judge in judges:
            values = np.array([r.similarity[judge.name] for r in chosen])
            entry[f"{judge.name} mean"] = float(values.mean())
            entry[f"{judge.name} std"] = float(values.std())
            entry[f"{judge.name} match"] = float((values >= judge.threshold).mean())
        table.append(entry)
    return table


def markdown(tables: dict[str, list[dict[str, object]]], judges: list[Recognizer], impostors: dict) -> str:
    lines = []
    for group, table in tables.items():
        lines.append(f"### {group}\n")
        header = ["own yaw after the turn (deg)" if group.startswith("photos, by") else "turn (deg)"]
        header += ["renders", "detected"]
        for judge in judges:
            header += [f"{judge.name} cos", f"{judge.name} ≥ {judge.threshold:g}"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for entry in table:
            cells = [f"{entry['turn_deg']:g}", str(entry["renders"]), f"{100 * float(entry['detected']):.0f}%"]  # type: ignore[arg-type]
            for judge in judges:
                cells += [
                    f"{entry[f'{judge.name} mean']:.3f} ± {entry[f'{judge.name} std']:.3f}",
                    f"{100 * float(entry[f'{judge.name} match']):.0f}%",  # type: ignore[arg-type]
                ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "Impostor level (different people's original photos): "
        + "; ".join(
            f"{n} mean {v['mean']:.3f}, max {v['max']:.3f} over {v['pairs']} pairs" for n, v in impostors.items()
        )
    )
    lines.append(
        "\nEach turn is rendered both ways (+ and −), except turns past a profile (own yaw + turn beyond ±90); "
        "cosine is against the same face's original photo; a turned face not detected again is embedded at the box "
        "the rotation predicts. The renders are augmentations (mesh rotation, mirrored or inpainted unseen skin), "
        "not photographs of the people turned."
    )
    return "\n".join(lines) + "\n"


def plot(tables: dict[str, list[dict[str, object]]], judges: list[Recognizer], impostors: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 4.4), squeeze=False)
    styles = [("o", "-"), ("s", "--"), ("^", "-."), ("D", ":")]
    for axis, (group, table) in zip(axes[0], tables.items(), strict=True):
        turns = [float(e["turn_deg"]) for e in table]  # type: ignore[arg-type]
        for number, judge in enumerate(judges):
            marker, style = styles[number % len(styles)]
            mean = np.array([float(e[f"{judge.name} mean"]) for e in table])  # type: ignore[arg-type]
            std = np.array([float(e[f"{judge.name} std"]) for e in table])  # type: ignore[arg-type]
            (line,) = axis.plot(turns, mean, marker=marker, linestyle=style, markerfacecolor="none", label=judge.name)
            axis.fill_between(turns, mean - std, mean + std, color=line.get_color(), alpha=0.15)
            axis.axhline(judge.threshold, color=line.get_color(), linestyle=":", linewidth=1)
            axis.axhline(impostors[judge.name]["mean"], color=line.get_color(), linestyle="--", linewidth=0.8)
        detected = [100 * float(e["detected"]) for e in table]  # type: ignore[arg-type]
        twin = axis.twinx()
        twin.bar(turns, detected, width=4, color="grey", alpha=0.25)
        twin.set_ylim(0, 300)
        twin.set_yticks([0, 50, 100])
        twin.set_ylabel("detected again (%)", color="grey")
        absolute = group.startswith("photos, by")
        axis.set_title("photos: by own yaw after the turn" if absolute else f"{group}: by yaw turn", fontsize=10)
        axis.set_xlabel("|photo's yaw + turn| (degrees)" if absolute else "turn (degrees, both directions)")
        axis.set_ylabel("cosine similarity (mean ± std)")
        axis.legend(loc="upper right", fontsize=7, title="dotted: threshold; dashed: impostor mean", title_fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/augment"))
    parser.add_argument("--lfw", type=int, default=20, help="How many LFW-subset faces (0 for none).")
    parser.add_argument("--no-sheet", action="store_true", help="Skip the contact sheet.")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    photos = photo_faces()
    candidates = photos + (lfw_faces(args.lfw) if args.lfw else [])
    # Faces `mien augment pose` refuses (profiles: their far half was never seen) are left out, and named.
    samples = [s for s in candidates if abs(pose_from_mesh(s.mesh).yaw_deg) <= SOURCE_YAW_REFUSE_DEG]
    excluded = [f"{s.name} (own yaw {pose_from_mesh(s.mesh).yaw_deg:+.0f})" for s in candidates if s not in samples]
    judges = recognizers()
    rows = [m for sample in samples for m in measure_face(sample, judges, TURNS)]
    groups = [g for g in ("photos", "lfw") if any(r.group == g for r in rows)]
    tables = {g: summarise(rows, judges, g) for g in groups}
    tables["photos, by the face's own yaw after the turn (15-degree bins)"] = summarise(
        rows, judges, "photos", absolute=True
    )
    impostors = impostor_levels(photos, judges)
    seconds = [r.render_s for r in rows]
    text = markdown(tables, judges, impostors)
    text += (
        f"\nLeft out as profiles (over {SOURCE_YAW_REFUSE_DEG:g} degrees, refused by `mien augment pose`): "
        f"{', '.join(excluded) or 'none'}. Render time per turn: median {np.median(seconds):.3f} s, max "
        f"{np.max(seconds):.3f} s (one thread, shared machine).\n"
    )
    atomic_write_bytes(args.out / "pose_verification.md", text.encode())
    report = {
        "recognizers": {j.name: j.threshold for j in judges},
        "tables": tables,
        "impostors": impostors,
        "excluded_profiles": excluded,
        "render_seconds": {"median": float(np.median(seconds)), "max": float(np.max(seconds))},
        "measurements": [asdict(r) for r in rows],
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write_bytes(args.out / "pose_verification.json", json.dumps(report, indent=1).encode())
    plot(tables, judges, impostors, args.out / "pose_verification.png")
    if not args.no_sheet:
        from evals.augment.contact_sheet import contact_sheet

        contact_sheet([s for s in photos if s.name == "astronaut" or s.name.startswith("t1")], args.out)
    print(text)
    print(f"wrote {args.out}/pose_verification.{{md,json,png}} in {report['seconds']} s")


if __name__ == "__main__":
    main()
