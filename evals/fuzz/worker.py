"""The fuzz worker: a child process that reads one media file per request the way every Mien tool does.

It runs under an address-space limit (``resource.setrlimit(RLIMIT_AS)``) set before anything is imported, reads
``<index>\t<path>`` lines on stdin and answers one JSON line per file on stdout: ``ok`` (read to the end),
``ok-damaged`` (read with a damage warning), ``mien`` (a ``MienError`` subclass: refused clearly, fine),
``memory`` (``MemoryError``: the limit was reached) or ``crash`` (any other exception: a bug to fix), with the
exception's class, a normalised message and, for crashes, the innermost frame. A hang or a hard crash (signal)
shows as no answer: the parent (``evals.fuzz.run``) times the request out or sees the process die.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import traceback
from pathlib import Path
from typing import Any


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def normalise(message: str, path: str) -> str:
    """An error message as a kind: without the file name and with every number written as N."""
    text = message.replace(path, "FILE").replace(Path(path).name, "FILE")
    text = re.sub(r"0x[0-9a-fA-F]+", "N", text)
    text = re.sub(r"\d[\d,.]*", "N", text)
    return text[:160]


def read_all(path: str) -> bool:
    """Read ``path`` as the tools do: probe; decode the image, or every video frame and the whole audio track.

    Returns whether any damage was reported (the file was read up to, or around, the damage).
    """
    from tools.media import iter_frames, load_audio, load_image, probe_media
    from tools.media.damage import collect_damage

    with collect_damage() as damage:
        info = probe_media(path)
        if info.kind == "image":
            load_image(path)
        else:
            if info.has_video:
                for _frame in iter_frames(path):
                    pass
            if info.has_audio:
                load_audio(path)
    return bool(damage)


def outcome(path: str) -> dict[str, Any]:
    """What reading ``path`` did, as the worker reports it."""
    from tools.errors import MienError

    try:
        damaged = read_all(path)
    except MienError as error:
        return {"outcome": "mien", "kind": f"{type(error).__name__}: {normalise(str(error), path)}"}
    except MemoryError:
        return {"outcome": "memory", "kind": "MemoryError"}
    except Exception as error:  # what the fuzzer is here to find
        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return {
            "outcome": "crash",
            "kind": f"{type(error).__name__} at {where}: {normalise(str(error), path)}",
            "traceback": traceback.format_exc()[-2000:],
        }
    return {"outcome": "ok-damaged" if damaged else "ok", "kind": "damaged, read" if damaged else "read"}


def main() -> None:
    _limit_memory(int(os.environ.get("MIEN_FUZZ_MEMORY_MB", "1536")))
    import logging

    logging.disable(logging.CRITICAL)  # damage warnings are counted through collect_damage, not printed
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        index, _, path = line.rstrip("\n").partition("\t")
        answer = {"index": int(index), **outcome(path)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
