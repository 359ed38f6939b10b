"""Self-contained HTML pages of a run report or a run diff: tables, a metric plot, and the frames the agent used.

Everything is inlined (images as data URLs, no scripts, no external CSS), so the page can be mailed or archived.
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
from pathlib import Path
from typing import Any

from evals.inspect.report import Change, ItemResult, RunDiff, RunReport
from tools.storage import atomic_write_bytes

FRAMES_PER_ITEM = 2
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3;text-align:left}.worse{background:#fde2e2}.better{background:#e2f5e2}
.item{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:10px 0}
.item img{max-height:180px;margin:4px;border:1px solid #ccc}pre{white-space:pre-wrap;font-size:12px;margin:4px 0}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}.muted{color:#777;font-size:12px}
"""


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _image(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        return f'<span class="muted">(frame {html.escape(file.name)} is gone)</span>'
    data = base64.b64encode(file.read_bytes()).decode("ascii")
    kind = "jpeg" if file.suffix.lower() in (".jpg", ".jpeg") else "png"
    return f'<img alt="{html.escape(file.name)}" src="data:image/{kind};base64,{data}">'


def _evidence_frame(finding: dict[str, Any]) -> str:
    """The frame of the finding's first marks with its boxes and labels drawn (as SoVTP draws them for a vision
    model), for answers from text-only models, which got no frames."""
    from prompts.sovtp import draw_sovtp_frame
    from tools.langchain_tools.types import Finding
    from tools.media import iter_frames, save_image

    found = Finding.from_dict(finding)
    first = min(mark.time_s for mark in found.marks)
    marks = [mark for mark in found.marks if abs(mark.time_s - first) < 1e-3]
    try:
        frame = next(iter(iter_frames(found.media, start_s=max(first - 1e-3, 0.0), max_side_px=640))).image
    except Exception:  # the media moved or broke since the run: the page says so instead of failing
        return f'<span class="muted">({html.escape(Path(found.media).name)} is no longer readable)</span>'
    scale = 640 / max(frame.shape[:2]) if max(frame.shape[:2]) > 640 else 1.0
    if scale != 1.0:  # iter_frames scaled the frame; scale the marks with it
        marks = [type(m)(m.track_id, m.time_s, [v * scale for v in m.box], [], m.labels) for m in marks]
    with tempfile.TemporaryDirectory() as folder:
        path = save_image(Path(folder) / "frame.png", draw_sovtp_frame(frame, marks))
        return _image(str(path)).replace("<img ", f'<img title="{html.escape(found.tool)} at {first:.2f} s" ', 1)


def _plot(names: list[str], series: list[tuple[str, list[float]]]) -> str:
    """A horizontal bar chart of the metrics (one bar per run) as an inline PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not names:
        return ""
    figure, axis = plt.subplots(figsize=(9, 0.32 * len(names) * len(series) + 1.2))
    height = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        axis.barh([i + index * height for i in range(len(names))], values, height=height, label=label)
    axis.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("score (0-1 metrics, latency left out; APCER/BPCER/ACER lower is better, the rest higher)")
    axis.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return f'<img alt="metrics" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _unit_metrics(metrics: dict[str, float]) -> list[str]:
    """Metrics on a 0-1 scale (the plot leaves out latency seconds)."""
    return [k for k, v in metrics.items() if "latency" not in k and 0.0 <= v <= 1.0]


def _item_card(item: ItemResult, changes: list[Change] | None = None) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td>"
        f"<td>{html.escape(item.notes.get(k.split('.')[0], ''))}</td></tr>"
        for k, v in sorted(item.scores.items())
    )
    changed = ""
    if changes:
        changed = "<p><b>changed:</b> " + ", ".join(
            f'<span class="{"worse" if c.better is False else "better"}">{html.escape(c.metric)} '
            f"{_fmt(c.before)} → {_fmt(c.after)}</span>"
            for c in changes
        ) + "</p>"
    frames = "".join(_image(f) for f in list(dict.fromkeys(item.frames))[:FRAMES_PER_ITEM])
    if not frames and item.marked:
        frames = _evidence_frame(item.marked[0])
    answers = "".join(f"<pre>{html.escape(a)}</pre>" for a in item.answers)
    tools = "; ".join(", ".join(t) or "no tool" for t in item.tools)
    error = f'<p class="worse">error: {html.escape(item.error)}</p>' if item.error else ""
    return (
        f'<div class="item"><h3>{html.escape(item.key)}</h3>{changed}{error}<p>tools run: {html.escape(tools)}</p>'
        f"{answers}<div>{frames}</div><table><tr><th>score</th><th>value</th><th>why</th></tr>{rows}</table></div>"
    )


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def report_html(report: RunReport) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in sorted(report.metrics.items()))
    names = _unit_metrics(report.metrics)
    body = (
        f'<p class="muted">logs: {html.escape(", ".join(report.logs))}</p>'
        f"<h2>Metrics</h2><table><tr><th>suite:scorer/metric</th><th>value</th></tr>{rows}</table>"
        f"{_plot(names, [(report.name, [report.metrics[n] for n in names])])}"
        "<h2>Items</h2>" + "".join(_item_card(item) for item in report.items.values())
    )
    return _page(f"Mien evaluation: {report.name}", body)


def diff_html(diff: RunDiff) -> str:
    def row(change: Change) -> str:
        css = {True: "better", False: "worse", None: ""}[change.better]
        delta = "—" if change.delta is None else f"{change.delta:+.3f}"
        return (
            f'<tr class="{css}"><td>{html.escape(change.where)}</td><td>{html.escape(change.metric)}</td>'
            f"<td>{_fmt(change.before)}</td><td>{_fmt(change.after)}</td><td>{delta}</td></tr>"
        )

    head = "<tr><th>where</th><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>"
    names = [n for n in _unit_metrics({**diff.before.metrics, **diff.after.metrics})]
    plot = _plot(
        names,
        [
            ("A: " + diff.before.name, [diff.before.metrics.get(n, 0.0) for n in names]),
            ("B: " + diff.after.name, [diff.after.metrics.get(n, 0.0) for n in names]),
        ],
    )
    by_item: dict[str, list[Change]] = {}
    for change in diff.items:
        by_item.setdefault(change.where, []).append(change)
    cards = "".join(
        _item_card(diff.after.items.get(key) or diff.before.items[key], [c for c in changes if c.better is not None])
        for key, changes in by_item.items()
        if any(c.better is not None and not c.metric.startswith("latency") for c in changes)
    )
    body = (
        f"<p>A: {html.escape(diff.before.name)}<br>B: {html.escape(diff.after.name)}</p>"
        f"<p><b>{len(diff.regressions)} item scores regressed, {len(diff.improvements)} improved.</b></p>"
        f"<h2>Regressed items</h2><table>{head}{''.join(row(c) for c in diff.regressions) or ''}</table>"
        f"<h2>Improved items</h2><table>{head}{''.join(row(c) for c in diff.improvements)}</table>"
        f"<h2>Metrics</h2><table>{head}{''.join(row(c) for c in diff.metrics)}</table>{plot}"
        f"<h2>Changed items (B's answers and frames)</h2>{cards}"
    )
    return _page("Mien evaluation diff", body)


def write_html(path: str | Path, page: str) -> Path:
    """Write ``page`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(target, page.encode("utf-8"))
