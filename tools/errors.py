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


class FacePoseError(NoFaceError):
    """The face is turned too far for the operation (a profile's hidden half cannot be re-rendered)."""


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


class AccessDeniedError(MienError):
    """A path names a place a server may not read or write (outside its data folder), or one an agent's tool call
    may not touch (not a file in play, not an output folder: ``tools.access``)."""

    exit_code = 10


class NotFoundError(MienError):
    """A reference (an uploaded file, a thread) names nothing that exists."""

    exit_code = 11


class UnsupportedMediaTypeError(MediaError):
    """The bytes are not an image, video or audio format Mien reads (checked from the content, not the name)."""


class AuthError(ServiceError):
    """A Mien server refused the request's API key: missing or unknown (HTTP 401), or without the scope (403)."""
