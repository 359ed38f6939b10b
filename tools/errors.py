"""One exception family for the whole product.

Every error a user can cause (bad file, no face, wrong key, unknown identity) is a ``MienError`` whose message
says what is wrong and, where possible, what to do. The CLI prints the message on one line and exits non-zero.
"""

from __future__ import annotations


class MienError(Exception):
    """Base class of every error Mien raises on purpose. ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class ConfigError(MienError):
    """A setting, path or backend name is wrong."""

    exit_code = 2


class MediaError(MienError):
    """A media file cannot be used: missing, empty, corrupt, unsupported, or beyond the configured limits."""

    exit_code = 3


class MediaTooLargeError(MediaError):
    """The media exceeds a configured size, pixel or duration limit."""


class NoFaceError(MienError):
    """No face was found where one is required."""

    exit_code = 4


class ModelUnavailableError(MienError):
    """A model's weights or runtime are not installed or not found at the configured path."""

    exit_code = 5


class GalleryError(MienError):
    """A gallery file is unreadable, of the wrong format, or an operation on it is invalid."""

    exit_code = 6


class UnknownIdentityError(GalleryError):
    """The named identity is not enrolled in the gallery."""


class CryptoError(MienError):
    """Keys are missing, mixed up, or a ciphertext is damaged."""

    exit_code = 7


class ServiceError(MienError):
    """A server Mien talks to (chat model, gallery server) is down, slow, or answered something unusable."""

    exit_code = 8


class ToolFailedError(MienError):
    """A tool the answer needed failed (the answer was given without its evidence); the message names the tool."""

    exit_code = 9
