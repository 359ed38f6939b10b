"""Suites as inspect tasks: registered (so inspect can re-create them to resume a run), listed by ``mien eval list``,
every built-in case's media generator known, and unknown names rejected clearly."""

from __future__ import annotations

import json

import pytest
from inspect_ai._util.registry import registry_info

from agent.cli.app import main
from evals.inspect.media import GENERATORS
from evals.inspect.run import RunOptions, suite_tasks
from evals.inspect.suites import BUILT_IN, SUITES
from tools.errors import ConfigError


def test_built_in_suites_are_registered_tasks() -> None:
    tasks = suite_tasks(["smoke", "all"], RunOptions(model_url="http://127.0.0.1:9/v1", without_tools="find_faces"))
    assert [registry_info(t).name for t in tasks] == ["smoke", *BUILT_IN]
    assert tasks[0].metadata == {"suite": "smoke", "description": SUITES["smoke"].description,
                                 "without_tools": ["find_faces"]}  # fmt: skip
    assert [str(s.id) for s in tasks[0].dataset] == ["astronaut-count", "astronaut-mood"]


def test_every_case_uses_a_known_generator() -> None:
    used = {m.generator for suite in SUITES.values() for case in suite.cases for m in case.media}
    used |= {m.generator for s in SUITES.values() for c in s.cases for photos in c.enroll.values() for m in photos}
    assert used <= set(GENERATORS)
    styles = {t.expect.style for s in SUITES.values() for c in s.cases for t in c.turns}
    assert {"sovtp", "deemo", "plain"} <= styles


def test_list_and_unknown_suite(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"smoke", "perception", "affect", "privacy", "afew:FOLDER", "deemo:FOLDER"} <= set(listed)
    assert main(["eval", "no-such-suite"]) == 2
    assert "unknown suite 'no-such-suite'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown suite"):
        suite_tasks(["afew"], RunOptions())  # a layout needs its folder: afew:/data/AFEW
