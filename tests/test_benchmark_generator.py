"""The benchmark's correctness (not its speed): generated packages are valid by construction,
and every injected violation is reported with its rule id at its recorded line."""
from __future__ import annotations

import collections
import json
import sys

from conftest import ROOT, TODAY

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate  # noqa: E402

from infocontrols.validation import validate_package  # noqa: E402

import pytest

pytestmark = pytest.mark.slow  # generates synthetic packages and validates them


def test_generated_package_is_valid(tmp_path):
    generate(3_000, tmp_path / "clean")
    report = validate_package(tmp_path / "clean", today=TODAY)
    assert report.ok and not report.findings, [f.message for f in report.findings[:5]]
    assert report.rows > 3_000 * 5


def test_every_injected_error_is_found_with_its_rule_and_line(tmp_path):
    injected = generate(3_000, tmp_path / "broken", errors=4, seed=7)
    assert injected == json.loads((tmp_path / "broken" / "injected.json").read_text())
    report = validate_package(tmp_path / "broken", today=TODAY)
    found = collections.defaultdict(set)
    for f in report.errors:
        found[f.rule].add((f.file, f.line))
    expected = {rule: {tuple(place) for place in places} for rule, places in injected.items()}
    assert len(expected) >= 25, "most error rules can be injected"
    for rule, places in expected.items():
        assert len(places) == 4, rule
        assert found[rule] == places, rule
    assert set(found) == set(expected), f"errors reported that were not injected: {set(found) - set(expected)}"


def test_generator_refuses_to_write_into_data(tmp_path):
    import generate as generator

    try:
        generator.main(["--events", "10", "--out", str(ROOT / "data" / "synthetic")])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("the generator wrote into data/")
    assert not (ROOT / "data" / "synthetic").exists()


def test_the_add_benchmark_adds_valid_events(tmp_path):
    """benchmarks/add.py's events are accepted whole: the benchmark measures `add`, not a refusal."""
    import add as add_benchmark

    from infocontrols.importer import add_events

    root = add_benchmark.fresh_package(tmp_path / "pkg")
    added = add_events(root, add_benchmark.events(30), "2026-11-28")
    assert len(added) == 30
