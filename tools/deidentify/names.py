"""Replacing enrolled names in text by track numbers ("Alice" -> "Person 1"), for the agent's privacy mode.

Whole words only ("Al" does not touch "Alice" or "Albert"), any letter case, longest names first so that "Alice
Smith" becomes one "Person 1" rather than "Person 1 Smith". A word boundary here is "not a letter, digit or
underscore" on either side, which also works for names that start or end with punctuation (e.g. "J.").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tools.errors import ConfigError

DEFAULT_TEMPLATE = "Person {track_id}"


@dataclass(frozen=True)
class NameRedaction:
    """``text`` with names replaced, and how many replacements were made."""

    text: str
    replacements: int


def redact_names(
    text: str, name_to_track: Mapping[str, int], template: str = DEFAULT_TEMPLATE
) -> NameRedaction:
    """Replace every whole-word, case-insensitive occurrence of each name by ``template`` of its track id.

    ``name_to_track`` maps a name ("Alice", "Alice Smith") to a track number; several names may share a track.
    Empty or whitespace-only names are ignored. Whitespace inside a name matches any run of whitespace.
    """
    if "{track_id}" not in template:
        raise ConfigError(f"the name template {template!r} must contain {{track_id}}")
    names = {name.strip(): track for name, track in name_to_track.items() if name and name.strip()}
    if not names or not text:
        return NameRedaction(text, 0)
    ordered = sorted(names, key=len, reverse=True)
    # One named group per name, so the match says which name it was whatever its letter case.
    alternatives = "|".join(f"(?P<n{index}>{_name_pattern(name)})" for index, name in enumerate(ordered))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    count = 0

    def substitute(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        name = ordered[int(str(match.lastgroup)[1:])]
        return template.format(track_id=names[name])

    return NameRedaction(pattern.sub(substitute, text), count)


def replace_names(text: str, name_to_track: Mapping[str, int], template: str = DEFAULT_TEMPLATE) -> str:
    """``text`` with the enrolled names replaced by track numbers (see ``redact_names``)."""
    return redact_names(text, name_to_track, template).text


def _name_pattern(name: str) -> str:
    return r"\s+".join(re.escape(part) for part in name.split())
