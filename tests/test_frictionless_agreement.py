"""Frictionless is the reference: every row error it reports, we report at the same row."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from frictionless import validate as frictionless_validate

from conftest import ROOT

pytestmark = pytest.mark.slow  # runs frictionless on the package and on broken copies


def strip_integrity(pkg):
    """Editing a CSV makes its recorded hash stale; that is `build --check`'s job, not this test's."""
    path = pkg.root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        resource.pop("bytes", None)
        resource.pop("hash", None)
    path.write_text(json.dumps(descriptor), encoding="utf-8")


# Each mutation breaks the package and returns the (resource, row) pairs at which frictionless
# must report an error: so a frictionless that reports nothing fails the test, not passes it.
def cell(table, index, column, value):
    return lambda p: {(table, p.set_cell(table, index, column, value))}


MUTATIONS = {
    "bad date": cell("events", 3, "date_start", "2018-13-01"),
    "unknown code": cell("events", 4, "evidence_status", "rumoured"),
    "dangling key": cell("event_sources", 5, "source_id", "so-missing-source"),
    "duplicate key": lambda p: {("actors", p.set_cell("actors", 1, "actor_id", p.cell("actors", 0, "actor_id")))},
    "missing required": cell("sources", 2, "outlet", ""),
    "pattern violation": cell("measures", 0, "jurisdiction", "china"),
    "bad number": cell("figures", 3, "value", "lots"),
    "negative number": cell("figures", 4, "value", "-1"),
    "composite key duplicate": lambda p: duplicate_row(p, "event_actors", 0),
    # Schema changes polars' regex engine cannot run: enforced with Python's re, as frictionless does.
    "lookahead pattern": lambda p: set_pattern(p, "events", "country", "^(?!CN)[A-Z]{2}$"),
    "lookahead pattern on some rows": lambda p: set_pattern(p, "figures", "unit", "^(?!count$)[a-z_]+$"),
    "backreference pattern": lambda p: set_pattern(p, "events", "admin1", r"^CN-(.)\1$"),
}


SCHEMA_PATTERNS = {"lookahead pattern", "lookahead pattern on some rows", "backreference pattern"}


def set_pattern(pkg, table, column, pattern):
    """Give ``column`` a pattern; return the rows whose non-empty cell it does not match (by Python's re)."""
    path = pkg.root / "schema" / f"{table}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    next(f for f in schema["fields"] if f["name"] == column).setdefault("constraints", {})["pattern"] = pattern
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    rows = pkg.rows(table)
    col = rows[0].index(column)
    return {(table, line) for line, row in enumerate(rows[1:], start=2) if row[col] and not re.fullmatch(pattern, row[col])}


def duplicate_row(pkg, table, index):
    rows = pkg.rows(table)
    rows.insert(index + 2, list(rows[index + 1]))
    pkg.write_rows(table, rows)
    return {(table, index + 3)}  # the copy is the duplicate; the original row stays valid


def frictionless_row_errors(root):
    report = frictionless_validate(str(root / "datapackage.json"))
    errors = []
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            errors.append((task.name, error.type, row))
    return report, errors


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_we_report_every_row_frictionless_reports(mutation, package):
    strip_integrity(package)
    expected = MUTATIONS[mutation](package)
    assert expected, "the mutation must break at least one row"
    report, errors = frictionless_row_errors(package.root)
    assert not report.valid and errors, "the mutation must be an error frictionless can see"
    reported = {(resource, row) for resource, _, row in errors}
    assert expected <= reported, f"frictionless did not report {sorted(expected - reported)[:5]}"
    if mutation in SCHEMA_PATTERNS:
        assert reported == expected, "frictionless applies the pattern to exactly these rows"
    ours = {(f.file, f.line) for f in package.validate().findings}
    files = {t.name: t.path for t in package.contract.tables.values()}
    for resource, kind, row in errors:
        assert row is not None, f"frictionless reported a non-row error {kind} on {resource}"
        assert (files[resource], row) in ours, f"frictionless {kind} at {resource} row {row} not reported by us"


def test_frictionless_validates_the_real_package():
    result = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "--json", "datapackage.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert json.loads(result.stdout)["valid"] is True
