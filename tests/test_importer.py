"""`infocontrols add`: nested records become valid rows with permanent IDs, reusing what exists;
anything `validate` would reject, and more, is refused before a byte is written."""
from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys

import pytest

from infocontrols.contract import Contract
from infocontrols.importer import AddError, add_events, check_shape, record_keys

from conftest import TODAY, copy_package, files_of

pytestmark = pytest.mark.slow  # full `add` runs, in-process and through the CLI


NEW = {
    "title": "Test regulator fines a platform",
    "summary": "A test event written for the importer's test.",
    "event_type": "enforcement_result", "control_domain": "platform_regulation",
    "date_start": "2019-03-04", "date_end": "2019-03-04", "date_precision": "day", "date_basis": "announced",
    "admin1": "CN-BJ", "location": "Beijing", "evidence_status": "reported", "notes": "",
    "actors": [{"name": "Cyberspace Administration of China", "actor_type": "government_agency", "role": "authority"},
               {"name": "Test Platform Co", "name_zh": "测试平台", "actor_type": "company", "role": "target", "country": "CN"}],
    "measures": [{"name": "Self-media rectification campaign (2018)", "relation": "enforces"}],
    "sources": [{"url": "https://www.caixinglobal.com/test-fine", "title": "Platform fined", "outlet": "Caixin Global",
                 "outlet_type": "newspaper", "language": "en", "published_on": "2019-03-05", "published_on_basis": "page",
                 "stance": "supports"},
                {"url": "http://chinascope.org/archives/16764", "stance": "context"}],
    "figures": [{"quantity": "platform-fine", "metric": "fine_amount", "value": 50000, "unit": "cny", "qualifier": "exact",
                 "source_url": "https://www.caixinglobal.com/test-fine", "notes": "fine"}],
}


def event(**changes) -> dict:
    record = copy.deepcopy(NEW)
    record.update(changes)
    return record


@pytest.fixture
def root(tmp_path):
    return copy_package(tmp_path / "pkg")


def rows(root, table):
    with (root / "data" / f"{table}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_add(root, tmp_path, payload, *extra, raw: bytes | None = None, env=None):
    path = tmp_path / "events.json"
    path.write_bytes(raw if raw is not None else json.dumps(payload).encode())
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(path), str(root), "--accessed-on", "2026-11-28", *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def refused(root, tmp_path, payload, **kwargs):
    """Run `add` and check it refused: exit 2, no traceback, nothing written. Returns stderr."""
    before = files_of(root)
    result = run_add(root, tmp_path, payload, **kwargs)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "nothing was added" in result.stderr
    assert files_of(root) == before
    return result.stderr


# --------------------------------------------------------------- what it adds
def test_added_event_is_valid_and_reuses_existing_records(root):
    actors_before, sources_before = len(rows(root, "actors")), len(rows(root, "sources"))
    [event_id] = add_events(root, [NEW], "2026-11-28")
    assert event_id == "ev-2019-03-04-test-regulator-fines-platform"
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


def test_unchanged_rows_keep_their_bytes(root):
    before = (root / "data" / "events.csv").read_bytes().splitlines()
    add_events(root, [NEW], "2026-11-28")
    after = (root / "data" / "events.csv").read_bytes().splitlines()
    assert len(after) == len(before) + 1 and set(before) <= set(after)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "infocontrols.cli", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cli_add_then_validate(root, tmp_path):
    result = run_add(root, tmp_path, [NEW])
    assert result.returncode == 0, result.stderr
    event_id = "ev-2019-03-04-test-regulator-fines-platform"
    assert f"added 1 event(s):\n  {event_id}" in result.stdout
    # As the message says, the Parquet files and descriptor wait for `build`: until then only STR012.
    before_build = cli("validate", root, "--format", "json")
    assert before_build.returncode == 1
    assert {f["rule"] for f in json.loads(before_build.stdout)["findings"] if f["severity"] == "error"} == {"STR012"}
    assert cli("build", root).returncode == 0
    validated = cli("validate", root)
    assert validated.returncode == 0 and validated.stdout.splitlines()[-1].startswith("valid: 0 errors"), validated.stdout[-2000:]
    # and what was added is there, in every table it touches
    [added] = [r for r in rows(root, "events") if r["event_id"] == event_id]
    assert (added["title"], added["date_start"], added["admin1"]) == (NEW["title"], "2019-03-04", "CN-BJ")
    [source] = [r for r in rows(root, "sources") if r["url"] == NEW["sources"][0]["url"]]
    assert (source["title"], source["accessed_on"]) == ("Platform fined", "2026-11-28")
    [platform] = [r for r in rows(root, "actors") if r["name"] == "Test Platform Co"]
    links = {(r["source_id"], r["stance"]) for r in rows(root, "event_sources") if r["event_id"] == event_id}
    assert (source["source_id"], "supports") in links and len(links) == 2
    assert platform["actor_id"] in {r["actor_id"] for r in rows(root, "event_actors") if r["event_id"] == event_id}
    [figure] = [r for r in rows(root, "figures") if r["event_id"] == event_id]
    assert (figure["value"], figure["source_id"]) == ("50000", source["source_id"])


def test_slug_collisions_get_a_suffix_never_a_reused_id(root):
    first = add_events(root, [NEW], "2026-11-28")
    second = add_events(root, [event(title=NEW["title"] + " again", sources=[dict(NEW["sources"][0], url="https://www.caixinglobal.com/again")],
                                     figures=[])], "2026-11-28")
    assert second[0] == first[0] + "-again"
    third = add_events(root, [event(title="Test regulator fines a platform!", sources=[dict(NEW["sources"][0], url="https://www.caixinglobal.com/3")], figures=[])], "2026-11-28")
    assert third[0] == first[0] + "-2"


def test_a_parent_defined_later_in_the_file_is_set(root):
    child = {"name": "Test Platform Subsidiary", "actor_type": "company", "role": "target", "country": "CN", "parent": "Test Platform Co"}
    later = event(title="Another test event", actors=[child], sources=[dict(NEW["sources"][0], url="https://www.caixinglobal.com/other")], figures=[])
    add_events(root, [later, NEW], "2026-11-28")
    by_name = {r["name"]: r for r in rows(root, "actors")}
    assert by_name["Test Platform Subsidiary"]["parent_actor_id"] == by_name["Test Platform Co"]["actor_id"]


# --------------------------------------------------------------- refused: nothing written, a true message
def test_bad_input_changes_nothing(root, tmp_path):
    bad = event(title="Second test event", figures=[dict(NEW["figures"][0], source_url="https://www.caixinglobal.com/not-a-source")])
    stderr = refused(root, tmp_path, [NEW, bad])
    assert "infocontrols add: events.json: events[1].figures[0].source_url: 'https://www.caixinglobal.com/not-a-source' is not among" in stderr


def test_a_bad_value_is_named_by_its_json_path_before_any_row_is_built(root, tmp_path):
    stderr = refused(root, tmp_path, [event(event_type="censor", date_start="2018/11/07")])
    assert "events.json: events[0].event_type: 'censor' is not in vocabulary event_type" in stderr and "(rule VOC001)" in stderr
    assert "events.json: events[0].date_start: '2018/11/07' is not a real date written YYYY-MM-DD" in stderr
    assert "data/events.csv" not in stderr  # no CSV line the contributor never wrote, no follow-on ID findings
    assert "nothing was added (2 problems)" in stderr


def test_what_only_validate_rejects_is_refused_with_the_json_path(root, tmp_path):
    stderr = refused(root, tmp_path, [event(sources=[dict(NEW["sources"][0], language="english")])])
    assert "events.json: events[0].sources[0].language: 'english' is not a valid BCP 47 language tag" in stderr and "[rule ISO003]" in stderr
    assert "data/sources.csv" not in stderr


def test_an_event_without_a_supporting_source_is_refused(root, tmp_path):
    stderr = refused(root, tmp_path, [event(sources=[{"url": "http://chinascope.org/archives/16764", "stance": "context"}], figures=[])])
    assert "events[0]: data/events.csv:" in stderr and "[rule SRC001]" in stderr


def test_a_malformed_row_already_in_the_package_refuses_everything(root, tmp_path):
    path = root / "data" / "event_sources.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[5] = ",".join(lines[5].split(",")[:2])  # a short row
    path.write_text("\n".join(lines), encoding="utf-8")
    stderr = refused(root, tmp_path, [NEW])
    assert "data/event_sources.csv" in stderr and "data/event_sources.csv:6: row has 2 cells, the header has 4 [rule STR008]" in stderr


def test_an_error_already_in_the_package_is_named_as_such(root, tmp_path):
    path = root / "data" / "events.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",confirmed,", ",certain,", 1), encoding="utf-8")
    stderr = refused(root, tmp_path, [NEW])
    assert "the package already fails validation" in stderr and "'certain' is not in vocabulary" in stderr


def test_the_same_event_twice_is_refused(root, tmp_path):
    stderr = refused(root, tmp_path, [NEW, event(title=" test regulator FINES a platform ")])
    assert "events[1]: the same event" in stderr and "in this file as events[0]" in stderr
    add_events(root, [NEW], "2026-11-28")
    stderr = refused(root, tmp_path, [NEW])
    assert "events[0]: the same event" in stderr and "already in the package as ev-2019-03-04-test-regulator-fines-platform" in stderr


@pytest.mark.parametrize("explicit, message", [
    ("ev-2018-11-14-cac-summons-self-media-platforms", "already exists"),
    ("ac-baidu", "already exists"),
])
def test_an_explicit_id_that_exists_is_refused(root, tmp_path, explicit, message):
    stderr = refused(root, tmp_path, [event(id=explicit)])
    assert f"events[0].id: {explicit} {message}" in stderr


def test_an_explicit_retired_id_is_refused(root, tmp_path):
    retired = root / "data" / "retired_ids.csv"
    retired.write_text(retired.read_text(encoding="utf-8") + "ev-2019-03-04-old-record,ev-2018-11-14-cac-summons-self-media-platforms,2026-11-01,duplicate\n", encoding="utf-8")
    stderr = refused(root, tmp_path, [event(id="ev-2019-03-04-old-record")])
    assert "events[0].id: ev-2019-03-04-old-record was retired" in stderr


@pytest.mark.parametrize("lookalike, note", [
    ("Ｂａｉｄｕ", "FULLWIDTH LATIN CAPITAL LETTER B"),
    ("B\u0430idu", "CYRILLIC SMALL LETTER A"),
    ("Ba\u0131du", "LATIN SMALL LETTER DOTLESS I"),
])
def test_a_lookalike_actor_name_is_refused(root, tmp_path, lookalike, note):
    actors = [{"name": lookalike, "actor_type": "company", "role": "target", "country": "CN"}]
    stderr = refused(root, tmp_path, [event(actors=actors)])
    assert f"events[0].actors[0].name: {lookalike!r} looks like the existing actor 'Baidu'" in stderr
    assert note in stderr and "did you mean ac-baidu?" in stderr


def test_lookalikes_within_the_file_are_refused_too(root, tmp_path):
    actors = [{"name": "Test Platform Co", "actor_type": "company", "role": "target"},
              {"name": "Test Platform C\u043e", "actor_type": "company", "role": "target"}]
    stderr = refused(root, tmp_path, [event(actors=actors)])
    assert "events[0].actors[1].name" in stderr and "did you mean ac-test-platform-co?" in stderr


def test_a_name_differing_only_in_case_is_the_same_actor(root):
    [event_id] = add_events(root, [event(actors=[{"name": "baidu", "role": "target"}])], "2026-11-28")
    assert {"event_id": event_id, "actor_id": "ac-baidu", "role": "target"} in rows(root, "event_actors")


@pytest.mark.parametrize("parent, message", [
    ("Test Platform Co", "ac-test-platform-co cannot be its own parent"),
    ("No Such Holding Group", "no parent actor named 'No Such Holding Group' in the package or in this file"),
])
def test_a_parent_that_is_itself_or_unknown_is_refused(root, tmp_path, parent, message):
    actors = [dict(NEW["actors"][1], parent=parent)]
    stderr = refused(root, tmp_path, [event(actors=actors)])
    assert f"events[0].actors[0].parent: {message}" in stderr


def test_an_unknown_authority_is_refused_not_dropped(root, tmp_path):
    measures = [{"name": "A brand new test measure", "measure_type": "regulation", "control_domain": "platform_regulation",
                 "authority": "Ministry of Nowhere", "relation": "enforces"}]
    stderr = refused(root, tmp_path, [event(measures=measures)])
    assert "events[0].measures[0].authority: no authority actor named 'Ministry of Nowhere'" in stderr


# --------------------------------------------------------------- malformed input: a message and exit 2, never a traceback
@pytest.mark.parametrize("payload, where, message", [
    ({"title": "x"}, "events", "the file must hold a JSON array of events, not an object"),
    (["x"], "events[0]", "every event must be an object, not a string"),
    ([dict(NEW, actors="x")], "events[0].actors", "must be a list of objects, not a string"),
    ([dict(NEW, actors=[5])], "events[0].actors[0]", "must be an object, not a number"),
    ([dict(NEW, sources=[{"url": 5}])], "events[0].sources[0].url", "must be a string, not a number"),
    ([dict(NEW, id=["a"])], "events[0].id", "must be a string, not a list"),
    ([dict(NEW, title=7)], "events[0].title", "must be a string, not a number"),
    ([dict(NEW, summary={"en": "x"})], "events[0].summary", "must be a string, not an object"),
    ([dict(NEW, date_strat="2019-01-01")], "events[0].date_strat", "unknown key (did you mean 'date_start'?)"),
    ([dict(NEW, figures=[dict(NEW["figures"][0], value=True)])], "events[0].figures[0].value", "must be a number"),
    ([{"title": "x"}], "events[0].date_start", "is required"),
    ([dict(NEW, actors=[{"name": None}])], "events[0].actors[0].name", "is required"),
])
def test_malformed_shapes_are_refused_with_a_json_path(root, tmp_path, payload, where, message):
    stderr = refused(root, tmp_path, payload)
    assert f"infocontrols add: events.json: {where}: {message}" in stderr


def test_deep_nesting_is_refused(root, tmp_path):
    stderr = refused(root, tmp_path, None, raw=b"[" * 100_000 + b"]" * 100_000)
    assert "events.json: not usable JSON: nested too deeply" in stderr


def test_not_json_is_refused(root, tmp_path):
    stderr = refused(root, tmp_path, None, raw=b'[{"title": "x",]')
    assert "events.json: line 1 column 16: not valid JSON" in stderr


def test_a_folder_as_input_is_refused(root, tmp_path):
    folder = tmp_path / "folder.json"
    folder.mkdir()
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(folder), str(root)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "folder.json: is a folder, not a file" in result.stderr and "Traceback" not in result.stderr


def test_bad_accessed_on_is_refused(root, tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps([NEW]), encoding="utf-8")
    before = files_of(root)
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "add", str(path), str(root), "--accessed-on", "yesterday"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--accessed-on: 'yesterday' is not a date" in result.stderr
    assert files_of(root) == before


def test_check_shape_collects_every_problem(root):
    keys = record_keys(Contract.from_source(root))
    problems = check_shape([{"title": 1, "date_start": "2019-01-01", "actors": [{"name": "a", "role": 2}], "sources": "x"}], keys)
    assert [str(p) for p in problems] == [
        "events[0].title: must be a string, not a number",
        "events[0].actors[0].role: must be a string, not a number",
        "events[0].sources: must be a list of objects, not a string",
    ]


def test_the_python_api_raises_add_error(root):
    with pytest.raises(AddError, match=r"events\[0\]\.id: ev-2018-11-14-cac-summons-self-media-platforms already exists"):
        add_events(root, [event(id="ev-2018-11-14-cac-summons-self-media-platforms")], "2026-11-28")


def test_the_input_keys_follow_the_schemas(root):
    """A column added to a table's schema is a key of its nested record at once."""
    keys = record_keys(Contract.from_source(root))
    assert set(keys["sources"]) == {"url", "title", "outlet", "original_outlet", "outlet_type", "language", "published_on",
                                    "published_on_basis", "archive_url", "notes", "stance", "note"}
    assert {"role", "parent", "name"} <= set(keys["actors"]) and "actor_id" not in keys["actors"]
    assert keys["figures"]["value"] == "number" and "source_url" in keys["figures"]
    path = root / "schema" / "event_sources.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"].append({"name": "page_section", "type": "string", "description": "Where on the page the event is reported."})
    path.write_text(json.dumps(schema), encoding="utf-8")
    rows_path = root / "data" / "event_sources.csv"
    rows_path.write_text("\n".join(line + ("," if i else ",page_section") for i, line in enumerate(rows_path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")
    context = dict(NEW["sources"][1], page_section="the last paragraph")
    [event_id] = add_events(root, [event(sources=[NEW["sources"][0], context])], "2026-11-28")
    [link] = [r for r in rows(root, "event_sources") if r["event_id"] == event_id and r["stance"] == "context"]
    assert link["page_section"] == "the last paragraph"
