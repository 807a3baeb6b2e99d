"""Bad input never crashes the validator: each case gets a clear error naming the file."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # the CLI in a subprocess on each broken package



def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "infocontrols.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def events_bytes(pkg):
    return pkg.path("events").read_bytes()


CASES = {
    "missing file": (lambda p: p.path("events").unlink(), "STR001"),
    "empty file": (lambda p: p.path("events").write_bytes(b""), "STR006"),
    "header-only file": (lambda p: p.path("events").write_bytes(events_bytes(p).split(b"\n")[0] + b"\n"), "STR010"),
    "extra column": (lambda p: p.path("events").write_bytes(events_bytes(p).replace(b"notes\n", b"notes,extra\n", 1)), "STR007"),
    "missing column": (lambda p: p.path("events").write_bytes(events_bytes(p).replace(b",notes\n", b"\n", 1)), "STR007"),
    "reordered columns": (lambda p: p.path("events").write_bytes(events_bytes(p).replace(b"event_id,title", b"title,event_id", 1)), "STR007"),
    "Latin-1 encoding": (lambda p: p.path("events").write_bytes(events_bytes(p).decode("utf-8").encode("latin-1", "replace") + "Café\n".encode("latin-1")), "STR002"),
    "UTF-16 encoding": (lambda p: p.path("events").write_bytes(events_bytes(p).decode("utf-8").encode("utf-16")), "STR002"),
    "byte-order mark": (lambda p: p.path("events").write_bytes(b"\xef\xbb\xbf" + events_bytes(p)), "STR003"),
    "CRLF line endings": (lambda p: p.path("events").write_bytes(events_bytes(p).replace(b"\n", b"\r\n")), "STR004"),
    "NUL byte": (lambda p: p.path("events").write_bytes(events_bytes(p)[:500] + b"\x00" + events_bytes(p)[500:]), "STR005"),
    "unbalanced quote": (lambda p: p.path("events").write_bytes(events_bytes(p).replace(b"\nev-", b'\n"ev-', 1)), "STR008"),
    "10 MB cell": (lambda p: p.set_cell("events", 0, "notes", "x" * 10_000_000), "STR009"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gets_a_clear_error(case, package):
    mutate, rule = CASES[case]
    mutate(package)
    result = run_cli("validate", str(package.root), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    hits = [f for f in report["findings"] if f["rule"] == rule]
    assert hits and all(f["file"] == "data/events.csv" for f in hits), report["findings"][:3]
    assert all(f["message"] for f in hits)


def test_a_broken_table_does_not_hide_problems_elsewhere(package):
    package.path("events").write_bytes(b"")
    package.set_cell("actors", 0, "country", "XX")
    report = package.validate()
    assert {"STR006", "ISO001"} <= {f.rule for f in report.findings}


def desc001(result) -> dict:
    """The one finding of a validation that stopped at the descriptor: DESC001, exit 1, no traceback."""
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stdout[-500:] + result.stderr
    [hit] = json.loads(result.stdout)["findings"]
    assert hit["rule"] == "DESC001" and hit["severity"] == "error"
    return hit


def test_descriptor_that_is_not_json_is_finding_desc001(package):
    (package.root / "datapackage.json").write_text("{ this is not json", encoding="utf-8")
    hit = desc001(run_cli("validate", str(package.root), "--format", "json"))
    assert (hit["file"], hit["line"]) == ("datapackage.json", 1)
    assert hit["message"].startswith("not valid JSON: Expecting property name")
    result = run_cli("validate", str(package.root))
    assert result.returncode == 1
    assert "datapackage.json:1: error DESC001: not valid JSON" in result.stdout
    assert "no table can be checked until this is fixed" in result.stdout


@pytest.mark.parametrize("bad_path", ["../outside.csv", "/etc/passwd", "https://example.org/events.csv", "data/../../x.csv"])
def test_resource_path_outside_the_package_is_finding_desc001(bad_path, package):
    descriptor = json.loads((package.root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["path"] = bad_path
    (package.root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (package.root.parent / "outside.csv").write_text("secret\n", encoding="utf-8")
    result = run_cli("validate", str(package.root), "--format", "json")
    hit = desc001(result)
    assert hit["file"] == "datapackage.json" and "resources[0].path: resource events" in hit["message"]
    assert "secret" not in result.stdout + result.stderr


def test_schema_path_outside_the_package_is_finding_desc001(package):
    descriptor = json.loads((package.root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"] = "../schema.json"
    (package.root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    hit = desc001(run_cli("validate", str(package.root), "--format", "json"))
    assert hit["file"] == "datapackage.json" and "resources[0].schema: resource events schema: path '../schema.json' points outside the package" in hit["message"]


def test_a_missing_schema_is_finding_desc001_naming_it(package):
    (package.root / "schema" / "figures.json").unlink()
    hit = desc001(run_cli("validate", str(package.root), "--format", "json"))
    assert (hit["file"], hit["line"]) == ("schema/figures.json", 0) and "file not found" in hit["message"]


def test_no_package_there_exits_2(tmp_path):
    result = run_cli("validate", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "no such package folder" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("validate", str(empty))
    assert result.returncode == 2 and "file not found" in result.stderr


def test_bad_arguments_exit_2():
    assert run_cli("validate", "--format", "xml").returncode == 2
    assert run_cli("validate", "--today", "yesterday").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_validation_never_writes_to_the_package(package):
    before = {p: p.read_bytes() for p in package.root.rglob("*") if p.is_file()}
    package.set_cell("events", 0, "event_type", "nonsense")
    before = {p: p.read_bytes() for p in package.root.rglob("*") if p.is_file()}
    assert run_cli("validate", str(package.root)).returncode == 1
    after = {p: p.read_bytes() for p in package.root.rglob("*") if p.is_file()}
    assert before == after


def test_a_cell_over_33_million_characters_is_an_over_long_cell_not_a_quote(package):
    """The fast parser reads 16 MB blocks and fails on a longer row with a quoting message."""
    line = package.set_cell("events", 3, "notes", "x" * 34_000_000)
    result = run_cli("validate", str(package.root), "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    [hit] = [f for f in findings if f["rule"] == "STR009"]
    assert (hit["file"], hit["line"], hit["column"]) == ("data/events.csv", line, "notes")
    assert hit["message"] == "cell has 34,000,000 characters; the limit is 20,000"
    assert not [f for f in findings if f["rule"] == "STR008"]


def test_an_over_long_path_exits_2_naming_it(tmp_path):
    long_dir = tmp_path / ("d" * 300)
    result = run_cli("validate", str(long_dir))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "file name too long" in result.stderr and "d" * 100 in result.stderr
    for command in (["build", str(long_dir)], ["info", str(long_dir)], ["add", str(tmp_path / ("e" * 300 + ".json")), str(tmp_path)]):
        result = run_cli(*command)
        assert result.returncode == 2 and "Traceback" not in result.stderr and "file name too long" in result.stderr, command


def test_an_over_long_resource_path_is_a_finding(package):
    descriptor = json.loads((package.root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][7]["path"] = "data/" + "f" * 300 + ".csv"
    (package.root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    result = run_cli("validate", str(package.root), "--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [hit] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "STR001"]
    assert hit["file"].startswith("data/fff") and "file name too long" in hit["message"]


def test_a_folder_where_a_table_should_be_is_a_finding_for_validate_and_exit_2_for_add(package, tmp_path):
    package.path("sources").unlink()
    package.path("sources").mkdir()
    result = run_cli("validate", str(package.root), "--format", "json")
    assert result.returncode == 1
    assert any(f["rule"] == "STR011" and f["file"] == "data/sources.csv" and "is a folder" in f["message"] for f in json.loads(result.stdout)["findings"])
    (tmp_path / "events.json").write_text("[]", encoding="utf-8")
    result = run_cli("add", str(tmp_path / "events.json"), str(package.root))
    assert result.returncode == 2 and "data/sources.csv" in result.stderr and "is a folder" in result.stderr


def test_an_unexpected_crash_is_a_message_and_exit_2(package, monkeypatch, capsys):
    """The last resort in cli.main: whatever slips through is a one-line message and exit 2."""
    from infocontrols import cli
    from infocontrols.validation import structure

    def explode(*args, **kwargs):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(structure, "read_table", explode)
    monkeypatch.setattr("infocontrols.validation.read_table", explode)
    assert cli.main(["validate", str(package.root)]) == 2
    err = capsys.readouterr().err
    assert "infocontrols validate: could not run: RuntimeError: something nobody foresaw" in err and "Traceback" not in err
