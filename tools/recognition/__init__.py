"""Recognition: who is this face? A plaintext SQLite gallery here; the encrypted one is in ``tools.encrypted``."""

from tools.recognition.gallery import PlainGallery
from tools.recognition.types import Candidate, Identity, IdentityGallery

__all__ = ["Candidate", "Identity", "IdentityGallery", "PlainGallery"]
