"""The "Propose an event" issue form matches the input of `infocontrols add` and GitHub's form syntax.

Checked against the files a contributor reads (docs/add-events.schema.json, schema/events.json,
schema/vocabularies.csv), not against the generator's code."""
from __future__ import annotations

import csv
import json

import yaml

from conftest import ROOT

FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "propose-event.yml"
INPUT_SCHEMA = json.loads((ROOT / "docs" / "add-events.schema.json").read_text(encoding="utf-8"))
EVENT = INPUT_SCHEMA["items"]


def form() -> dict:
    return yaml.safe_load(FORM.read_text(encoding="utf-8"))


def vocabulary_codes() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with (ROOT / "schema" / "vocabularies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["vocabulary"], []).append(row["code"])
    return out


def test_the_form_has_a_field_for_every_key_a_proposer_gives():
    ids = [element["id"] for element in form()["body"] if "id" in element]
    keys = [k for k in EVENT["properties"] if k not in ("id", "evidence_status")]
    assert ids == keys


def test_drop_downs_offer_exactly_the_vocabulary_codes_in_order():
    event_fields = {f["name"]: f for f in json.loads((ROOT / "schema" / "events.json").read_text(encoding="utf-8"))["fields"]}
    codes = vocabulary_codes()
    dropdowns = {e["id"]: e for e in form()["body"] if e["type"] == "dropdown"}
    expected = {name for name, f in event_fields.items() if f.get("vocabulary") and name in EVENT["properties"]}
    expected.discard("evidence_status")  # derived by add from the sources
    assert set(dropdowns) == expected
    for name, element in dropdowns.items():
        assert element["attributes"]["options"] == codes[event_fields[name]["vocabulary"]], name


def test_required_marks_match_the_input_schema():
    required = set(EVENT["required"])
    for element in form()["body"]:
        if "id" in element:
            assert element["validations"]["required"] is (element["id"] in required), element["id"]
    assert {"title", "sources"} <= required


def test_nested_lists_name_every_key_of_their_records():
    elements = {e["id"]: e for e in form()["body"] if "id" in e}
    for name in ("actors", "measures", "sources", "figures"):
        description = elements[name]["attributes"]["description"]
        for key in EVENT["properties"][name]["items"]["properties"]:
            assert f"`{key}`" in description, (name, key)


def test_the_form_follows_githubs_issue_form_syntax():
    data = form()
    assert {"name", "description", "body"} <= set(data)
    allowed = {"markdown", "textarea", "input", "dropdown", "checkboxes"}
    ids = [e["id"] for e in data["body"] if "id" in e]
    labels = [e["attributes"]["label"] for e in data["body"] if e["type"] != "markdown"]
    assert all(e["type"] in allowed for e in data["body"])
    assert len(ids) == len(set(ids)) and len(labels) == len(set(labels))
    assert all(e["attributes"]["options"] for e in data["body"] if e["type"] == "dropdown")
    assert all(e["type"] != "markdown" or "id" not in e for e in data["body"])
