"""Every fixture project must produce exactly the findings marked in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_harness import (
    FIXTURES,
    actual_findings,
    compare,
    expected_findings,
    fixture_projects,
    settings_for,
)


@pytest.mark.parametrize("preview", [False, True], ids=["default", "preview"])
@pytest.mark.parametrize(
    "project", fixture_projects(), ids=lambda p: p.relative_to(FIXTURES).as_posix()
)
def test_fixture(project: Path, preview: bool) -> None:
    expected = expected_findings(project, preview)
    actual = actual_findings(project, settings_for(project, preview))
    assert compare(expected, actual) == []


def test_every_bad_fixture_expects_something() -> None:
    for project in fixture_projects():
        if project.name.startswith("bad"):
            assert expected_findings(project), f"{project} is a bad fixture with no marks"


def test_harness_fails_on_a_missing_finding() -> None:
    project = FIXTURES / "TL203" / "bad.py"
    expected = expected_findings(project)
    actual = actual_findings(project, settings_for(project))
    dropped = sorted(actual)[0]
    assert compare(expected, actual - {dropped}) == [f"missing: {dropped[0]}:{dropped[1]}: {dropped[2]}"]


def test_harness_fails_on_an_extra_finding() -> None:
    project = FIXTURES / "TL203" / "good.py"
    expected = expected_findings(project)
    actual = actual_findings(project, settings_for(project))
    extra = ("good.py", 1, "TL203")
    assert compare(expected, actual | {extra}) == ["unexpected: good.py:1: TL203"]
