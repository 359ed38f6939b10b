"""Identity cloaking (DiffAIM-style): change a photo's faces imperceptibly so face recognition no longer matches them
to the person (dodging) or matches them to a chosen target (impersonation), robust to re-upload.

``cloak_image`` / ``cloak_file`` are the API; ``types`` has the options and results; ``pixel`` the pixel-space
attack, ``diffaim`` the Stable Diffusion latent attack, ``surrogate`` the differentiable recognizers.
"""

from tools.cloak.api import cloak_file, cloak_image
from tools.cloak.types import STRENGTHS, CloakedFace, CloakOptions, CloakResult

__all__ = ["STRENGTHS", "CloakOptions", "CloakResult", "CloakedFace", "cloak_file", "cloak_image"]
