"""What a contributor sees: text grouped and capped, JSON records, GitHub annotations."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from infocontrols.contract import Contract

from conftest import ROOT, without_generated

import pytest

TABLES = len(Contract.from_source(ROOT).tables)

pytestmark = pytest.mark.slow  # the CLI in subprocesses


def run(*args):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, timeout=300)


def test_valid_package_exits_0_with_summary():
    result = run("validate", str(ROOT))
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(rf"^valid: 0 errors, \d+ warnings? in {TABLES} tables \([\d,]+ rows\)$", result.stdout.strip(), re.M)


def test_text_lines_are_grouped_capped_and_actionable(package):
    without_generated(package.root)
    for i in range(8):
        package.set_cell("events", i, "event_type", "law_isued")
    result = run("validate", str(package.root))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("VOC001 (8): ")
    finding_lines = [l for l in lines if "error VOC001" in l]
    assert len(finding_lines) == 5
    assert finding_lines[0].strip() == "data/events.csv:2:event_type: error VOC001: 'law_isued' is not in vocabulary event_type (did you mean 'law_issued' or 'plan_announced'?)"
    assert "  +3 more" in lines
    report = package.validate()
    assert lines[-1] == f"invalid: 8 errors, {len(report.warnings):,} warnings in {TABLES} tables ({report.rows:,} rows)"
    # errors are listed before the package's standing warnings (tests/test_hosts.py: HOST003)
    warned = [i for i, l in enumerate(lines) if " warning " in l]
    assert not warned or min(warned) > max(i for i, l in enumerate(lines) if "error VOC001" in l)


def test_json_has_every_finding_as_a_record(package):
    without_generated(package.root)
    for i in range(8):
        package.set_cell("events", i, "event_type", "nonsense")
    result = run("validate", str(package.root), "--format", "json")
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["errors"] == 8
    assert len(data["findings"]) == 8 + data["warnings"]
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert set(errors[0]) == {"file", "line", "column", "value", "rule", "severity", "message"}
    assert [f["line"] for f in errors] == list(range(2, 10)) and {f["rule"] for f in errors} == {"VOC001"}


def test_github_format_annotates_the_diff(package):
    line = package.set_cell("figures", 0, "unit", "furlongs")
    result = run("validate", str(package.root), "--format", "github")
    assert result.returncode == 1
    assert f"::error file=data/figures.csv,line={line},title=VOC001 unit::'furlongs' is not in vocabulary unit" in result.stdout


def test_warnings_do_not_fail(package):
    without_generated(package.root)
    rows = package.rows("actors")
    rows.append(["ac-zzz-nobody", "Nobody", "", "person", "", "", "", "", ""])
    package.write_rows("actors", rows)
    result = run("validate", str(package.root))
    assert result.returncode == 0
    assert "warning SRC007" in result.stdout


def test_baseline_that_is_not_a_git_revision_exits_2(package):
    result = run("validate", str(package.root), "--baseline", "no-such-ref")
    assert result.returncode == 2 and "--baseline no-such-ref" in result.stderr


def test_baseline_passes_when_nothing_was_removed():
    result = run("validate", str(ROOT), "--baseline", "HEAD")
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr


def test_script_entry_point_works_without_install():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "validate.py"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "valid:" in result.stdout


def test_rule_list_in_contributing_is_generated_from_the_registry():
    from infocontrols.validation import RULES

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity} |" in text


# GitHub's runner (actions/runner, ActionCommand): a workflow command is
# "::name prop=value,prop=value::data". It unescapes data with %0D -> CR, %0A -> LF, %25 -> %,
# and property values with those and %3A -> ':', %2C -> ','; in that order, %25 last.
def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """What the runner reads from one line: level, properties, message."""
    assert line.startswith("::") and "\r" not in line and "\n" not in line, repr(line)
    head, message = line[2:].split("::", 1)
    level, _, props = head.partition(" ")
    pairs = dict(p.split("=", 1) for p in props.split(","))
    return level, {k: _unescape_property(v) for k, v in pairs.items()}, _unescape_data(message)


def test_github_annotations_escape_properties_and_messages():
    from infocontrols.validation import Report
    from infocontrols.validation.findings import Finding
    from infocontrols.validation.report import as_github

    findings = [
        Finding("data/event_sources.csv", 7, "event_id,source_id", "x", "KEY001", "error", "duplicate primary key (event_id, source_id) = ('a', 'b')"),
        Finding("data/figures.csv", 0, "", "", "FIG002", "warning", "100% sure: line one\nline two\r\nline three"),
        Finding("data/a:b,c%d.csv", 3, "notes", "", "CIT002", "warning", "50%, then 20%0A literally: a, b"),
        Finding("schema/events.json", 0, "", "", "DESC001", "error", "fields[1]: 'x' is not valid\rsee: docs"),
    ]
    lines = as_github(Report(findings=findings, tables=1, rows=1)).splitlines()
    assert len(lines) == len(findings) + 1 and lines[-1] == "2 errors, 2 warnings in 1 tables (1 rows)"
    # The exact bytes: data escapes only %, CR and LF; properties also ':' and ','.
    assert lines[0] == "::error file=data/event_sources.csv,line=7,title=KEY001 event_id%2Csource_id::duplicate primary key (event_id, source_id) = ('a', 'b')"
    assert lines[1] == "::warning file=data/figures.csv,title=FIG002::100%25 sure: line one%0Aline two%0D%0Aline three"
    assert lines[2] == "::warning file=data/a%3Ab%2Cc%25d.csv,line=3,title=CIT002 notes::50%25, then 20%250A literally: a, b"
    assert lines[3] == "::error file=schema/events.json,title=DESC001::fields[1]: 'x' is not valid%0Dsee: docs"
    # And the runner reads back exactly what was meant.
    parsed = [_parse_command(line) for line in lines[:-1]]
    assert parsed[0] == ("error", {"file": "data/event_sources.csv", "line": "7", "title": "KEY001 event_id,source_id"}, findings[0].message)
    assert parsed[1] == ("warning", {"file": "data/figures.csv", "title": "FIG002"}, findings[1].message)  # line 0: no line property
    assert parsed[2] == ("warning", {"file": "data/a:b,c%d.csv", "line": "3", "title": "CIT002 notes"}, findings[2].message)
    assert parsed[3] == ("error", {"file": "schema/events.json", "title": "DESC001"}, findings[3].message)


def test_github_format_annotates_warnings_as_warnings(package):
    without_generated(package.root)
    rows = package.rows("actors")
    rows.append(["ac-zzz-nobody", "Nobody", "", "person", "", "", "", "", ""])
    package.write_rows("actors", rows)
    result = run("validate", str(package.root), "--format", "github")
    assert result.returncode == 0, result.stdout[-1000:]
    [line] = [l for l in result.stdout.splitlines() if l.startswith("::") and "SRC007" in l]  # the package may carry standing warnings (HOST003)
    level, props, message = _parse_command(line)
    assert (level, props) == ("warning", {"file": "data/actors.csv", "line": str(len(rows)), "title": "SRC007 actor_id"})
    assert "ac-zzz-nobody" in message


def test_a_baseline_is_never_read_as_a_git_option(tmp_path):
    target = tmp_path / "x"
    for baseline in (f"--output={target}", "-p", "--help"):
        result = run("validate", str(ROOT), f"--baseline={baseline}")
        assert result.returncode == 2, result.stdout[-500:]
        assert f"--baseline {baseline!r}: not a git revision" in result.stderr
    assert not target.exists()


def test_a_baseline_that_names_no_commit_exits_2():
    for baseline in ("HEAD:README.md", "HEAD^{tree}", "no-such-branch"):
        result = run("validate", str(ROOT), "--baseline", baseline)
        assert result.returncode == 2 and "not a commit" in result.stderr, result.stderr
