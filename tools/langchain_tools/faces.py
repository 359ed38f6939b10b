"""The faces capability as a tool: who is on screen, how many people, where, and from when to when.

One face analysis per file is shared by every adapter in this package (identify and emotions read the same tracks),
memoised per file version and settings, so a question that needs three tools analyses the video once.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool

from tools.faces import FaceOptions, VideoFaces, analyze_file
from tools.faces.types import Face, Track
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.types import FaceMark, Finding
from tools.settings import Settings, get_settings

KEY_FRAMES = 3  # frames per file whose faces are kept as marks for visual prompts
MESH_POINT_STEP = 3  # every third mesh point is enough to show the face's shape in a prompt


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def face_versions(settings: Settings) -> dict[str, str]:
    """What face results depend on: backends, sampling rate and the library that runs them."""
    return {
        "detector": settings.detector,
        "embedder": settings.embedder,
        "video_fps": f"{settings.video_fps:g}",
        "detection_threshold": f"{settings.detection_threshold:g}",
        "mediapipe": package_version("mediapipe"),
    }


def analysed_faces(media: str, settings: Settings | None = None) -> VideoFaces:
    """The tracks of every person in ``media`` (image or video), computed once per file version and settings."""
    settings = settings or get_settings()
    path = Path(media).resolve()
    stat = path.stat() if path.exists() else None
    stamp = (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)
    key = (str(path), *stamp, *sorted(face_versions(settings).items()))
    if key not in _memo:
        _memo[key] = analyze_file(path, FaceOptions(mesh=True, pose=True, embeddings=True), settings=settings)
        while len(_memo) > _MEMO_FILES:
            _memo.popitem(last=False)
    _memo.move_to_end(key)
    return _memo[key]


_MEMO_FILES = 8
_memo: OrderedDict[tuple[Any, ...], VideoFaces] = OrderedDict()


def position_word(face: Face, frame_width: int) -> str:
    """Where a face sits across the frame: left, center or right (image left, the viewer's left)."""
    if frame_width <= 0:
        return "center"
    x = face.box.center[0] / frame_width
    return "left" if x < 1 / 3 else "right" if x > 2 / 3 else "center"


def key_face(track: Track) -> Face:
    """The face that stands for a track: the one in the middle of its time on screen."""
    return track.faces[len(track.faces) // 2]


def key_frame_marks(video: VideoFaces, labels: dict[int, list[str]] | None = None) -> list[FaceMark]:
    """Marks for every face on up to ``KEY_FRAMES`` frames: the frame with most faces, then frames spread in time.

    ``labels`` maps a track number to lines drawn beside its box (AUs, an emotion).
    """
    by_frame: dict[int, list[Face]] = defaultdict(list)
    for track in video.tracks:
        for face in track.faces:
            by_frame[face.frame_index or 0].append(face)
    if not by_frame:
        return []
    frames = sorted(by_frame)
    fullest = max(frames, key=lambda index: (len(by_frame[index]), -abs(index - frames[len(frames) // 2])))
    spread = [frames[round(i * (len(frames) - 1) / max(KEY_FRAMES - 1, 1))] for i in range(KEY_FRAMES)]
    chosen = list(dict.fromkeys([fullest, *spread]))[:KEY_FRAMES]
    return [face_mark(face, (labels or {}).get(face.track_id or 0, [])) for index in chosen for face in by_frame[index]]


def face_mark(face: Face, labels: list[str]) -> FaceMark:
    points: list[list[float]] = []
    if face.mesh is not None:
        points = [[round(float(x), 1), round(float(y), 1)] for x, y in face.mesh[::MESH_POINT_STEP, :2]]
    elif face.landmarks5 is not None:
        points = [[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks5]
    return FaceMark(face.track_id or 0, float(face.time_s or 0.0), face.box.to_list(), points, list(labels))


def people_label(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def find_faces(media: str) -> Finding:
    """Every person visible in ``media``: count, where they are and when they are on screen."""
    video = analysed_faces(media)
    width = video.media.width
    people: list[dict[str, Any]] = []
    for track in video.tracks:
        face = key_face(track)
        person: dict[str, Any] = {"person": track.track_id, "position": position_word(face, width)}
        if video.media.kind == "video":
            person["on_screen_s"] = [round(track.start_s, 2), round(track.end_s, 2)]
        if face.pose is not None:
            person["head_yaw_deg"] = round(face.pose.yaw_deg)
        people.append(person)
    count = len(video.tracks)
    where = ", ".join(f"#{p['person']} {p['position']}" for p in people)
    summary = f"{people_label(count)} seen in the {video.media.kind}" + (f": {where}" if where else "")
    facts: dict[str, Any] = {"count": count, "people": people}
    if video.media.kind == "video":
        facts["frames_analysed"] = video.frames_analysed
    return Finding("find_faces", media, people_label(count), summary, facts, key_frame_marks(video))


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name="find_faces",
        description="Find every person's face in an image or video: how many people there are, where each one is "
        "(numbered left to right), and when each is on screen.",
        run=find_faces,
        args_schema=MediaArgs,
        versions=face_versions(settings),
        examples=[
            "How many people are in this picture?",
            "Who is on screen?",
            "Count the faces.",
            "Is anyone in this video?",
            "How many persons appear in the clip?",
            "Where are the people in the frame?",
            "When does someone appear?",
        ],
    )
