"""What a contributor sees: text grouped and capped, JSON records, GitHub annotations."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, without_generated

import pytest

pytestmark = pytest.mark.slow  # the CLI in subprocesses


def run(*args):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, timeout=300)


def test_valid_package_exits_0_with_summary():
    result = run("validate", str(ROOT))
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(r"^valid: 0 errors, \d+ warnings? in 10 tables \([\d,]+ rows\)$", result.stdout.strip(), re.M)


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
    assert lines[-1] == f"invalid: 8 errors, 0 warnings in 10 tables ({package.validate().rows:,} rows)"


def test_json_has_every_finding_as_a_record(package):
    without_generated(package.root)
    for i in range(8):
        package.set_cell("events", i, "event_type", "nonsense")
    result = run("validate", str(package.root), "--format", "json")
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["errors"] == 8
    assert len(data["findings"]) == 8
    assert set(data["findings"][0]) == {"file", "line", "column", "value", "rule", "severity", "message"}
    assert [f["line"] for f in data["findings"]] == list(range(2, 10))


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


def _unescape(text: str) -> str:
    """What GitHub's runner does to a workflow command's values."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    head, message = line[2:].split("::", 1)
    level, _, props = head.partition(" ")
    pairs = dict(p.split("=", 1) for p in props.split(","))
    return level, {k: _unescape(v) for k, v in pairs.items()}, _unescape(message)


def test_github_annotations_escape_properties_and_messages():
    from infocontrols.validation import Report
    from infocontrols.validation.findings import Finding
    from infocontrols.validation.report import as_github

    findings = [
        Finding("data/event_sources.csv", 7, "event_id,source_id", "x", "KEY001", "error", "duplicate primary key (event_id, source_id) = ('a', 'b')"),
        Finding("data/figures.csv", 0, "", "", "FIG002", "warning", "100% sure: line one\nline two"),
        Finding("data/a:b.csv", 3, "notes", "", "CIT002", "warning", "50%, then 20%0A literally"),
    ]
    lines = as_github(Report(findings=findings, tables=1, rows=1)).splitlines()
    parsed = [_parse_command(line) for line in lines[:3]]
    assert parsed[0] == ("error", {"file": "data/event_sources.csv", "line": "7", "title": "KEY001 event_id,source_id"}, findings[0].message)
    assert parsed[1] == ("warning", {"file": "data/figures.csv", "title": "FIG002"}, "100% sure: line one\nline two")
    assert parsed[2][1]["file"] == "data/a:b.csv" and parsed[2][2] == "50%, then 20%0A literally"
    assert all("\n" not in line for line in lines)


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
