"""The Stable Diffusion model behind personalization, in the backend registry so ``mien models`` says whether one
is configured and complete (none ships in a package: the user supplies a local diffusers folder)."""

from __future__ import annotations

from typing import Any

from tools.cloak.diffaim import check_sd_folder
from tools.errors import MienError
from tools.registry import Registry, new_registry
from tools.settings import get_settings

PORTRAIT_MODELS: Registry[Any] = new_registry("portrait-generator")


def _weights() -> str:
    folder = get_settings().sd_model
    if folder is None:
        return "not configured: set MIEN_SD_MODEL to a local Stable Diffusion folder (diffusers layout)"
    try:
        return str(check_sd_folder(folder))
    except MienError as error:
        return str(error)


def _ready() -> bool:
    folder = get_settings().sd_model
    if folder is None:
        return False
    try:
        check_sd_folder(folder)
    except MienError:
        return False
    return True


def _build() -> Any:
    from tools.personalize.model import load_sd

    return load_sd(None)


PORTRAIT_MODELS.register(
    "stable-diffusion",
    _build,
    description="Stable Diffusion (diffusers folder) for ID-EA personalized portraits and DiffAIM cloaking",
    weights=_weights,
    ready=_ready,
    default=True,
)
