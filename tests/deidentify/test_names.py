"""Enrolled names become track numbers in text: whole words, any case, longest name first."""

from __future__ import annotations

import pytest

from tools.deidentify import redact_names, replace_names
from tools.errors import ConfigError

PEOPLE = {"Alice": 1, "Bob": 2, "Alice Smith": 1}


def test_names_become_person_numbers() -> None:
    assert replace_names("Alice talks to Bob.", PEOPLE) == "Person 1 talks to Person 2."


def test_matching_ignores_letter_case() -> None:
    assert replace_names("ALICE and bob and aLiCe", PEOPLE) == "Person 1 and Person 2 and Person 1"


def test_only_whole_words_are_replaced() -> None:
    text = "Bobby met Alicea at the Bobsleigh race, then Bob's friend Alice_2 left."
    assert replace_names(text, PEOPLE) == "Bobby met Alicea at the Bobsleigh race, then Person 2's friend Alice_2 left."


def test_the_longest_name_wins_over_its_prefix() -> None:
    assert replace_names("Alice Smith smiled; later Alice frowned.", PEOPLE) == (
        "Person 1 smiled; later Person 1 frowned."
    )
    # A full name across a line break is still the full name.
    assert replace_names("Alice\n  Smith waved", PEOPLE) == "Person 1 waved"


def test_names_with_regex_characters_and_accents_are_literal() -> None:
    people = {"J.R. (Bob)": 3, "Zoë": 4, "Ølaf": 5}
    text = "J.R. (Bob) and ZOË met Ølaf; JXR (Bob) did not."
    assert replace_names(text, people) == "Person 3 and Person 4 met Person 5; JXR (Bob) did not."


def test_the_count_and_a_custom_template() -> None:
    result = redact_names("Bob, bob, BOB and Alice", PEOPLE, template="[track {track_id}]")
    assert result.text == "[track 2], [track 2], [track 2] and [track 1]"
    assert result.replacements == 4


def test_no_names_or_blank_names_leave_text_alone() -> None:
    assert redact_names("Alice is here", {}).text == "Alice is here"
    assert redact_names("Alice is here", {"  ": 1, "": 2}).replacements == 0


def test_a_template_without_the_track_number_is_refused() -> None:
    with pytest.raises(ConfigError, match="track_id"):
        replace_names("Alice", PEOPLE, template="someone")
