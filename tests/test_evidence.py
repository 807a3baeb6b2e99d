"""The derived evidence status: origins, independence and contradictions (src/infocontrols/evidence.py)."""
from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, strategies as st

from infocontrols.evidence import STANDS_MARKER, derive_status
from conftest import ROOT
from infocontrols.ids import FUNCTION_WORDS, MAX_CHARS, content_slug, ends_on_function_word, event_slug

SOURCES = pl.DataFrame(
    {
        "source_id": ["so-ksl", "so-wral", "so-ap", "so-gov", "so-nyt", "so-mirror"],
        "outlet": ["KSL", "WRAL", "Associated Press", "Beijing Municipal Government", "New York Times", "sohu.com"],
        "original_outlet": ["Associated Press", "Associated Press", None, None, None, "Xinhua"],
        "outlet_type": ["wire_service", "wire_service", "wire_service", "government", "newspaper", "state_media"],
    }
)


def status(*links: tuple[str, str, str | None]) -> str:
    frame = pl.DataFrame(
        {"event_id": ["ev-x"] * len(links), "source_id": [l[0] for l in links], "stance": [l[1] for l in links], "note": [l[2] for l in links]},
        schema={"event_id": pl.String, "source_id": pl.String, "stance": pl.String, "note": pl.String},
    )
    return derive_status(frame, SOURCES).row(0, named=True)["derived"]


def test_copies_of_one_wire_story_are_one_origin():
    assert status(("so-ksl", "supports", None), ("so-wral", "supports", None), ("so-ap", "supports", None)) == "reported"


def test_two_origins_confirm():
    assert status(("so-ksl", "supports", None), ("so-nyt", "supports", None)) == "confirmed"


def test_a_government_source_confirms_alone():
    assert status(("so-gov", "supports", None)) == "confirmed"


def test_context_links_are_not_evidence():
    assert status(("so-ksl", "supports", None), ("so-nyt", "context", None)) == "reported"


def test_a_contradicting_source_disputes_unless_the_event_is_shown_to_stand():
    base = [("so-gov", "supports", None), ("so-nyt", "supports", None)]
    assert status(*base, ("so-mirror", "contradicts", "It gives another date.")) == "disputed"
    assert status(*base, ("so-mirror", "contradicts", f"It gives another date. {STANDS_MARKER} only the date differs.")) == "confirmed"


def test_a_stands_note_does_not_confirm_weak_evidence():
    note = f"It says the plan was dropped. {STANDS_MARKER} the plan was published."
    assert status(("so-nyt", "supports", None), ("so-mirror", "contradicts", note)) == "disputed"


@given(st.text(min_size=1, max_size=200))
def test_generated_slugs_are_never_cut_off_on_a_function_word(title):
    slug = content_slug(title)
    assert len(slug) <= MAX_CHARS
    assert not slug or slug.rsplit("-", 1)[-1] not in FUNCTION_WORDS
    assert not ends_on_function_word("ev-2020-01-01-" + slug) or not slug


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Jinan introduces 12-point credit system for dog owners", "jinan-introduces-12-point-credit-system"),
        ("Supreme People's Court revises rules on publishing the judgment-defaulter list", "supreme-peoples-court-revises-rules"),
        ("Bibles disappear from China's major e-commerce platforms", "bibles-disappear-chinas-major-e-commerce"),
    ],
)
def test_event_slugs_of_titles_that_used_to_be_cut_off(title, slug):
    assert event_slug(title) == slug


def test_a_copy_that_does_not_name_its_original_is_no_independent_origin():
    import polars as pl
    from infocontrols.evidence import derive_status, unattributed_copies

    links = pl.DataFrame({"event_id": ["ev-a", "ev-a"], "source_id": ["so-1", "so-2"],
                          "stance": ["supports", "supports"], "note": [None, None]})
    sources = pl.DataFrame({"source_id": ["so-1", "so-2"],
                            "url": ["https://www.reuters.com/a", "https://m.copy-farm.example/b"],
                            "outlet": ["Reuters", "copy-farm.example"], "original_outlet": [None, None],
                            "outlet_type": ["wire_service", "government"]})
    hosts = pl.DataFrame({"host": ["reuters.com", "copy-farm.example"], "outlet": ["Reuters", "copy-farm.example"],
                          "kind": ["outlet_site", "copy_site"]})
    unknown = unattributed_copies(sources, hosts)
    assert unknown == ["so-2"]
    row = derive_status(links, sources, unknown).row(0, named=True)
    assert (row["origins"], row["official"], row["derived"]) == (1, False, "reported")
    # once the copy names whose text it is, that outlet is its origin
    named = sources.with_columns(pl.when(pl.col("source_id") == "so-2").then(pl.lit("Xinhua")).otherwise(None).alias("original_outlet"))
    assert unattributed_copies(named, hosts) == []
    assert derive_status(links, named, []).row(0, named=True)["derived"] == "confirmed"


def test_no_confirmed_event_of_the_package_rests_on_an_unattributed_copy():
    """Read from the CSV files: drop every copy-site source without original_outlet and the
    confirmed events must still have a government source or two origins."""
    import csv
    from collections import defaultdict
    from infocontrols.hosts import covering_host, url_host

    def rows(path):
        with (ROOT / path).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    kinds = {r["host"]: r["kind"] for r in rows("schema/hosts.csv")}
    sources = {r["source_id"]: r for r in rows("data/sources.csv")}
    unknown = {sid for sid, s in sources.items()
               if kinds.get(covering_host(url_host(s["url"]), kinds)) == "copy_site" and not s["original_outlet"]}
    assert unknown, "the package has copies of unknown origin (HOST003): this test checks they are not counted"
    support = defaultdict(list)
    for link in rows("data/event_sources.csv"):
        if link["stance"] == "supports" and link["source_id"] not in unknown:
            support[link["event_id"]].append(sources[link["source_id"]])
    for event in rows("data/events.csv"):
        if event["evidence_status"] == "confirmed":
            found = support[event["event_id"]]
            origins = {s["original_outlet"] or s["outlet"] for s in found}
            assert len(origins) >= 2 or any(s["outlet_type"] == "government" for s in found), event["event_id"]
