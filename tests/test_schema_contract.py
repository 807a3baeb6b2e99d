"""Every constraint in schema/ is enforced, or the schema is refused, naming the file and the place
in it: `validate` reports it as finding DESC001 (exit 1), `build` cannot run (exit 2). A rule the
engine cannot run is never skipped while validate says valid."""
from __future__ import annotations

import json
import re
import subprocess

import pytest


def cli(*args):
    """Run the command in this process (schemas cannot hang a reader): fast, same exit codes."""
    import contextlib
    import io

    from infocontrols.cli import main
    from infocontrols.load import _contract_at

    _contract_at.cache_clear()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def edit_schema(pkg, table: str, change) -> None:
    path = pkg.root / "schema" / f"{table}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def countries(package) -> list[str]:
    """The events' country codes (most are CN; Hong Kong and Macau events have their own)."""
    rows = package.rows("events")
    return [r[rows[0].index("country")] for r in rows[1:]]


def set_constraint(table: str, name: str, key: str, value):
    def change(schema):
        field(schema, name).setdefault("constraints", {})[key] = value
    return table, change


# --------------------------------------------------------------- enforced, even where polars' regex cannot run
def test_a_lookahead_pattern_is_enforced(package):
    edit_schema(package, *set_constraint("events", "country", "pattern", "^(?!CN)[A-Z]{2}$"))
    report = package.validate()
    hits = report.by_rule("PAT001")
    assert len(hits) == countries(package).count("CN"), "every CN row breaks the pattern"
    assert hits[0].file == "data/events.csv" and hits[0].line == 2 and "does not match the pattern ^(?!CN)[A-Z]{2}$" in hits[0].message


def test_a_backreference_pattern_is_enforced(package):
    edit_schema(package, *set_constraint("events", "country", "pattern", r"^([A-Z])\1$"))
    assert len(package.validate().by_rule("PAT001")) == len(package.rows("events")) - 1
    edit_schema(package, *set_constraint("events", "country", "pattern", r"^([A-Z])(?!\1)[A-Z]$"))
    assert package.validate().by_rule("PAT001") == []


def test_a_pattern_matches_the_whole_cell(package):
    edit_schema(package, *set_constraint("events", "country", "pattern", "[A-Z]"))  # no anchors: still the whole cell
    assert len(package.validate().by_rule("PAT001")) == len(package.rows("events")) - 1


def test_an_enum_without_a_vocabulary_is_enforced(package):
    edit_schema(package, *set_constraint("events", "country", "enum", ["TW", "HK"]))
    hits = package.validate().by_rule("VOC001")
    outside = [c for c in countries(package) if c not in ("TW", "HK")]
    assert len(hits) == len(outside) > 0 and "not one of the values schema/events.json allows" in hits[0].message


def test_an_enum_narrower_than_its_vocabulary_is_enforced(package):
    edit_schema(package, *set_constraint("events", "evidence_status", "enum", ["confirmed", "disputed"]))
    hits = package.validate().by_rule("VOC001")
    assert hits and {h.value for h in hits} == {"reported"}


def test_format_uri_is_enforced(package):
    edit_schema(package, "events", lambda s: field(s, "location").update(format="uri"))
    hits = package.validate().by_rule("PAT001")
    assert hits and all("is not a URI" in h.message for h in hits)


# --------------------------------------------------------------- refused: DESC001 / exit 2, naming the schema file and the place
REFUSED = {
    "unclosed regex": (set_constraint("events", "country", "pattern", "^([A-Z]{2}$"),
                       "schema/events.json: fields[9].constraints.pattern: '^([A-Z]{2}$' is not a valid regular expression: missing ), unterminated subpattern"),
    "pattern not a string": (set_constraint("events", "country", "pattern", 5),
                             "schema/events.json: fields[9].constraints.pattern: a pattern must be a string, not 5"),
    "maximum as a string": (set_constraint("figures", "value", "maximum", "1"),
                            'schema/figures.json: fields[3].constraints.maximum: must be a number, not "1"'),
    "minimum as true": (set_constraint("figures", "value", "minimum", True),
                        "schema/figures.json: fields[3].constraints.minimum: must be a number, not true"),
    "required as a string": (set_constraint("events", "title", "required", "yes"),
                             'schema/events.json: fields[1].constraints.required: must be true or false, not "yes"'),
    "constraints as a list": (("events", lambda s: field(s, "title").update(constraints=[{"required": True}])),
                              "schema/events.json: fields[1].constraints: must be an object"),
    "unknown type": (("events", lambda s: field(s, "title").update(type="text")),
                     'schema/events.json: fields[1].type: field \'title\' has type "text"; infocontrols can check only string, number, integer, date'),
    "unsupported type": (("events", lambda s: field(s, "title").update(type="boolean")),
                         'fields[1].type: field \'title\' has type "boolean"'),
    "unsupported constraint": (set_constraint("events", "title", "maxLength", 200),
                               "schema/events.json: fields[1].constraints.maxLength: unknown or unsupported constraint (infocontrols cannot enforce it)"),
    "misspelt constraint": (set_constraint("events", "title", "requird", True),
                            "schema/events.json: fields[1].constraints.requird: unknown or unsupported constraint"),
    "constraint outside constraints": (("events", lambda s: field(s, "country").update(pattern="^X$")),
                                       'schema/events.json: fields[9]: pattern must go inside "constraints", where it is enforced'),
    "primary key naming a missing field": (("events", lambda s: s.update(primaryKey=["event_uid"])),
                                           "schema/events.json: primaryKey: 'event_uid' is not a field of table events"),
    "sort key naming a missing field": (("vocabularies", lambda s: s.update(sortKey=["vocab"])),
                                        "schema/vocabularies.json: sortKey: 'vocab' is not a field of table vocabularies"),
    "foreign key to a missing resource": (("event_sources", lambda s: s["foreignKeys"][1]["reference"].update(resource="source")),
                                          "schema/event_sources.json: foreignKeys[1].reference.resource: no table 'source' in the package"),
    "foreign key naming a missing field": (("event_sources", lambda s: s["foreignKeys"][1]["reference"].update(fields=["id"])),
                                           "schema/event_sources.json: foreignKeys[1].reference.fields: 'id' is not a field of table sources"),
    "foreign key from a missing field": (("event_sources", lambda s: s["foreignKeys"][1].update(fields=["source"])),
                                         "schema/event_sources.json: foreignKeys[1].fields: 'source' is not a field of table event_sources"),
    "fields not a list": (("events", lambda s: s.update(fields={"event_id": {}})), "schema/events.json: fields: must be a list"),
    "missing values other than empty": (("events", lambda s: s.update(missingValues=["", "NA"])),
                                        "schema/events.json: missingValues: infocontrols reads only empty cells as missing"),
    "bound on a string": (set_constraint("events", "title", "minimum", 1),
                          "schema/events.json: fields[1].constraints.minimum: infocontrols supports minimum on number and integer fields only"),
    "unsupported format": (("events", lambda s: field(s, "date_start").update(format="any")),
                           'schema/events.json: fields[5].format: "any" is not supported for a date field'),
}


def desc001(package) -> dict:
    """Validate; the one finding must be DESC001 (exit 1, nothing else checked)."""
    result = cli("validate", package.root, "--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, (result.stdout[-500:], result.stderr)
    [hit] = json.loads(result.stdout)["findings"]
    assert hit["rule"] == "DESC001" and hit["severity"] == "error", hit
    return hit


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_schema_infocontrols_cannot_enforce_is_refused(package, case):
    (table, change), message = REFUSED[case]
    edit_schema(package, table, change)
    # Field positions may move as columns are added; the message must still say which field.
    expected = re.sub(r"fields\\\[\d+\\\]", lambda _: r"fields\[\d+\]", re.escape(message))
    hit = desc001(package)
    assert hit["file"] == (message.split(": ", 1)[0] if message.startswith("schema/") else f"schema/{table}.json")
    assert re.search(expected, f"{hit['file']}: {hit['message']}"), hit
    result = cli("build", package.root, "--check")
    assert result.returncode == 2, (case, result.stdout[-500:], result.stderr)
    assert "Traceback" not in result.stderr and re.search(expected, result.stderr), result.stderr


def test_a_schema_that_is_not_json_names_its_line(package):
    (package.root / "schema" / "figures.json").write_text('{\n  "fields": [\n', encoding="utf-8")
    hit = desc001(package)
    assert (hit["file"], hit["line"]) == ("schema/figures.json", 3) and hit["message"].startswith("not valid JSON")
    result = cli("validate", package.root)
    assert result.returncode == 1 and "schema/figures.json:3: error DESC001: not valid JSON" in result.stdout


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(resources="events"), "datapackage.json: resources: must be a non-empty list"),
    (lambda d: d["resources"].__setitem__(0, "events"), "datapackage.json: resources[0]: every resource must be an object"),
    (lambda d: d["resources"][1].update(name="events"), "datapackage.json: resources[1]: a second resource named 'events'"),
    (lambda d: d["resources"][0].update(path=["data/events.csv"]), "datapackage.json: resources[0].path: resource events: path must be a non-empty string"),
    (lambda d: d["resources"][0].update(emptyAllowed="yes"), "datapackage.json: resources[0].emptyAllowed: must be true or false"),
])
def test_descriptor_errors_name_the_descriptor(package, change, message):
    path = package.root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    hit = desc001(package)
    assert (hit["file"], hit["line"]) == ("datapackage.json", 0)
    assert f"{hit['file']}: {hit['message']}".startswith(message), hit
