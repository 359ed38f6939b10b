"""Loading the perception models once, when the service starts, so that the first ask pays for none of them.

Each backend is built once per process by its registry; building it here, and running the face pipeline once on
a real photo (the astronaut), moves that cost out of the first question. A model that fails to load is reported
in the status, not fatal: the tool that needs it reports the error when it is asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from agent.service.protocol import WarmModel
from tools.settings import Settings

log = logging.getLogger(__name__)


def _faces() -> None:
    from evals.samples import astronaut
    from tools.faces.pipeline import FaceOptions, analyze_image

    analyze_image(astronaut(), FaceOptions(mesh=True, pose=True, embeddings=True))


def _expression() -> None:
    from tools.expression.backends import get_au_model, get_expression_model

    get_expression_model()
    get_au_model()


def _speech(settings: Settings) -> None:
    from tools.speech.backends import TRANSCRIBERS

    TRANSCRIBERS.build(settings.transcriber)


def warm_models(settings: Settings) -> list[WarmModel]:
    """Build the default perception backends; what each took, or why it failed."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("faces (detector, mesh, pose, embedder)", _faces),
        (f"expression ({settings.expression_model}, {settings.au_model})", _expression),
        (f"speech ({settings.transcriber})", lambda: _speech(settings)),
    ]
    warmed: list[WarmModel] = []
    for name, step in steps:
        started = time.perf_counter()
        try:
            step()
        except Exception as error:
            log.warning("could not preload %s: %s", name, error)
            warmed.append(WarmModel(name=name, seconds=round(time.perf_counter() - started, 3), error=str(error)))
            continue
        warmed.append(WarmModel(name=name, seconds=round(time.perf_counter() - started, 3)))
    return warmed
