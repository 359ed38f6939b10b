"""Body cues on the composed gesture clip: what was found, on which frames, against the script; a contact sheet.

    python -m evals.body_report out/body        # writes gestures.mp4, body_cues.png and prints the table

The sheet shows, for every cue found, its middle frame with the face box, the pose and hand points and the cue's
name, so that a reader can see what the rule saw.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from evals.body_clips import BODY_SCRIPT, body_clip
from tools.body import read_body_language
from tools.faces import analyze_file
from tools.media import iter_frames, save_image


def main(folder: str = "out/body") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    clip = body_clip(out / "gestures.mp4")
    faces = analyze_file(clip)
    analysis = read_body_language(faces)
    person = analysis.people[0]
    print(f"{'script':<22}{'seconds':<13}{'found':<22}frames")
    for gesture in BODY_SCRIPT:
        kinds = [k for k in (gesture.kind, *gesture.also) if k]
        found = [
            c for c in person.cues if c.kind in kinds or (not kinds and gesture.start_s <= c.start_s < gesture.end_s)
        ]
        shown = ", ".join(sorted({c.kind for c in found})) or "-"
        frames = sorted({i for c in found for i in c.frames if gesture.start_s <= i / 5.0 < gesture.end_s})
        print(f"{gesture.kind or 'still':<22}{gesture.start_s:>4.1f}-{gesture.end_s:<8.1f}{shown:<22}{frames}")
    images = {frame.index: frame.image for frame in iter_frames(clip, faces.sample_fps)}
    by_index = {f.frame_index: f for f in person.frames}
    tiles = []
    for cue in person.cues:
        middle = cue.frames[len(cue.frames) // 2]
        tile = images[middle].copy()
        body = by_index[middle]
        box = body.face_box
        cv2.rectangle(tile, (int(box.x0), int(box.y0)), (int(box.x1), int(box.y1)), (0, 255, 0), 2)
        if body.pose is not None:
            for x, y, visibility in body.pose:
                if visibility >= 0.5:
                    cv2.circle(tile, (int(x), int(y)), 3, (255, 255, 0), -1)
        for hand in body.hands:
            for x, y in hand:
                cv2.circle(tile, (int(x), int(y)), 2, (255, 0, 255), -1)
        text = f"{cue.kind} {cue.start_s:.1f}-{cue.end_s:.1f}s"
        cv2.putText(tile, text, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(cv2.resize(tile, (320, 240)))
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)])
    print("sheet:", save_image(out / "body_cues.png", sheet))


if __name__ == "__main__":
    main(*sys.argv[1:2])
