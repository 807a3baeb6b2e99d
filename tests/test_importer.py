"""`infocontrols add`: nested records become valid rows with permanent IDs, reusing what exists."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infocontrols.importer import add_events

from conftest import TODAY, copy_package

NEW = {
    "title": "Test regulator fines a platform",
    "summary": "A test event written for the importer's test.",
    "event_type": "enforcement_result", "control_domain": "platform_regulation",
    "date_start": "2019-03-04", "date_end": "2019-03-04", "date_precision": "day", "date_basis": "announced",
    "admin1": "CN-BJ", "location": "Beijing", "evidence_status": "reported", "notes": "",
    "actors": [{"name": "Cyberspace Administration of China", "actor_type": "government_agency", "role": "authority"},
               {"name": "Test Platform Co", "name_zh": "测试平台", "actor_type": "company", "role": "target", "country": "CN"}],
    "measures": [{"name": "Self-media rectification campaign (2018)", "relation": "enforces"}],
    "sources": [{"url": "https://example.org/test-fine", "title": "Platform fined", "outlet": "Example News",
                 "outlet_type": "newspaper", "language": "en", "published_on": "2019-03-05", "stance": "supports"},
                {"url": "http://chinascope.org/archives/16764", "stance": "context"}],
    "figures": [{"metric": "fine_amount", "value": 50000, "unit": "cny", "qualifier": "exact",
                 "source_url": "https://example.org/test-fine", "notes": "fine"}],
}


@pytest.fixture
def root(tmp_path):
    return copy_package(tmp_path / "pkg")


def rows(root, table):
    import csv

    with (root / "data" / f"{table}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_added_event_is_valid_and_reuses_existing_records(root):
    actors_before, sources_before = len(rows(root, "actors")), len(rows(root, "sources"))
    [event_id] = add_events(root, [NEW], "2026-11-28")
    assert event_id == "ev-2019-03-04-test-regulator-fines-a-platform"
    assert len(rows(root, "actors")) == actors_before + 1  # the CAC is reused, the platform is new
    assert len(rows(root, "sources")) == sources_before + 1  # the Chinascope URL is reused
    links = [r for r in rows(root, "event_sources") if r["event_id"] == event_id]
    assert {r["stance"] for r in links} == {"supports", "context"}
    [figure] = [r for r in rows(root, "figures") if r["event_id"] == event_id]
    assert figure["value"] == "50000" and figure["source_id"] in {r["source_id"] for r in links}

    from infocontrols.build import build
    from infocontrols.validation import validate_package

    assert {f.rule for f in validate_package(root, today=TODAY).errors} == {"STR012"}, "add leaves the build to `build`"
    build(root)
    report = validate_package(root, today=TODAY)
    assert report.ok, [f"{f.rule} {f.message}" for f in report.errors][:5]


def test_same_event_twice_gets_a_new_id_never_a_reused_one(root):
    first = add_events(root, [NEW], "2026-11-28")
    second = add_events(root, [NEW], "2026-11-28")
    assert first != second and second[0].startswith(first[0])


def test_explicit_existing_id_is_refused(root):
    with pytest.raises(ValueError, match="already exists"):
        add_events(root, [dict(NEW, id="ev-2018-11-14-cac-summons-self-media-platforms")], "2026-11-28")


def test_bad_input_changes_nothing(root, tmp_path):
    before = {p: p.read_bytes() for p in (root / "data").iterdir()}
    bad = dict(NEW, figures=[dict(NEW["figures"][0], source_url="https://example.org/not-a-source")])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([NEW, bad]), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(path), str(root)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "nothing was added" in result.stderr and "not among the sources" in result.stderr
    assert before == {p: p.read_bytes() for p in (root / "data").iterdir()}


def test_cli_add_then_validate(root, tmp_path):
    path = tmp_path / "new.json"
    path.write_text(json.dumps([NEW]), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(path), str(root), "--accessed-on", "2026-11-28"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ev-2019-03-04-test-regulator-fines-a-platform" in result.stdout
