"""De-identification: faces blurred or masked, voices anonymized, names replaced by track numbers."""

from tools.deidentify.faces import ANONYMIZE_MODES, AnonymizeMode, FaceMaskStyle, anonymize_faces
from tools.deidentify.image import DeidentifiedImage, deidentify_image, hide_faces
from tools.deidentify.names import NameRedaction, redact_names, replace_names
from tools.deidentify.types import DeidentifyReport
from tools.deidentify.video import deidentify_video
from tools.deidentify.voice import anonymize_voice

__all__ = [
    "ANONYMIZE_MODES",
    "AnonymizeMode",
    "DeidentifiedImage",
    "DeidentifyReport",
    "FaceMaskStyle",
    "NameRedaction",
    "anonymize_faces",
    "anonymize_voice",
    "deidentify_image",
    "deidentify_video",
    "hide_faces",
    "redact_names",
    "replace_names",
]
