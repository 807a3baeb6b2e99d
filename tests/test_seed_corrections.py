"""The errors a reviewer found in the seed events (issue 9), each with a test that catches its return.

Each test reads the data as a user would (``ic.load``) and checks the corrected fact against
what the linked sources say (recorded in docs/audit/2026-12/corrections-0.md).
"""
from __future__ import annotations

import csv

import pandas as pd
import pytest

import infocontrols as ic
from conftest import ROOT

WECHAT = "ev-2018-11-16-wechat-cuts-public-account-quota"
GUET_SCHEDULED = "ev-2018-11-07-guet-device-checks-scheduled-start"
GUET_MEASURE = "me-guet-document-no-77-device-inspection"
CAC_9800 = "ev-2018-11-12-cac-reports-9800-self-media-accounts"
CLEANUP = "ev-2018-10-20-self-media-cleanup-begins"
PEOPLES_DAILY = "ev-2018-11-peoples-daily-criticises-self-media"
SILICON_VALLEY = "ev-2018-11-07-silicon-valley-chiefs-skip-wuzhen"
WIC_OPENING = "ev-2018-11-07-fifth-world-internet-conference-opens"
WATRIX_FUNDING = "ev-2018-10-watrix-raises-100-million-yuan"
WATRIX_POLICE = "ev-2018-11-05-police-use-watrix-gait-recognition"
BEIJING_PLAN = "ev-2018-11-19-beijing-individual-credit-score-plan"


@pytest.fixture(scope="module")
def t():
    tables = {name: ic.load(name, root=ROOT) for name in ("events", "actors", "measures", "sources", "event_actors", "event_sources", "figures")}
    for frame in tables.values():
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype("string")
    return tables


def event(t, event_id):
    return t["events"].set_index("event_id").loc[event_id]


def links(t, event_id):
    frame = t["event_sources"]
    return frame[frame["event_id"] == event_id].merge(t["sources"], on="source_id")


def figures(t, event_id):
    frame = t["figures"]
    return frame[frame["event_id"] == event_id]


def roles(t, event_id):
    frame = t["event_actors"]
    return set(zip(frame.loc[frame["event_id"] == event_id, "actor_id"], frame.loc[frame["event_id"] == event_id, "role"]))


# 1. WeChat quota: Global Times dates the announcement (Friday, 16 November); caps are limits.
def test_wechat_quota_date_comes_from_global_times(t):
    row = event(t, WECHAT)
    assert str(row["date_start"].date()) == "2018-11-16" and row["date_basis"] == "announced"
    linked = links(t, WECHAT)
    global_times = linked[(linked["outlet"] == "Global Times") | (linked["original_outlet"] == "Global Times")]
    assert len(global_times) >= 2
    assert "no date" not in row["notes"].lower() and "Friday" in row["notes"]


def test_wechat_caps_are_limits_not_accounts_affected(t):
    caps = figures(t, WECHAT)
    assert len(caps) > 0
    assert set(caps["metric"]) == {"limit"}
    assert set(caps["quantity"]) == {"individual-account-cap", "company-account-cap"}


# 2. GUET: 'under way' rests on Chinascope's summary alone; Sixth Tone says 'to be finalized';
#    the planned window is the measure's dates; the security bureau is not an implementer.
def test_guet_planned_window_is_structured_on_the_measure(t):
    measure = t["measures"].set_index("measure_id").loc[GUET_MEASURE]
    assert str(measure["date_effective"].date()) == "2018-11-07"
    assert str(measure["date_ended"].date()) == "2018-11-23"


def test_guet_sixth_tone_does_not_say_no_checks_were_done(t):
    linked = links(t, GUET_SCHEDULED).set_index("source_id")
    assert linked.loc["so-sixth-tone-20181114", "stance"] != "contradicts"
    assert "RFA reported them under way" not in event(t, GUET_SCHEDULED)["notes"]
    assert "Chinascope" in event(t, GUET_SCHEDULED)["notes"]  # the claim is attributed to the summary


def test_guet_security_bureau_is_not_an_implementer(t):
    names = t["actors"].set_index("actor_id")["name"]
    guet_events = [e for e in t["events"]["event_id"] if "guet" in e]
    assert len(guet_events) >= 3, guet_events
    for event_id in guet_events:
        for actor_id, role in roles(t, event_id):
            assert not ("Domestic Security" in names[actor_id] and role == "implementer"), event_id


# 3. CAC: 'more than 9,800' is a floor; the SCMP relay's 10,000 is recorded too.
def test_cac_9800_is_at_least_and_the_10000_relay_is_recorded(t):
    numbers = figures(t, CAC_9800)
    accounts = numbers[numbers["quantity"] == "accounts-affected"]
    floors = accounts[accounts["value"] == 9800]
    more_than = floors[floors["notes"].fillna("").str.contains("more than", case=False)]
    assert len(more_than) > 0 and set(more_than["qualifier"]) == {"at_least"}
    scmp = accounts[accounts["source_id"] == "so-south-china-morning-post-20181113"]
    assert list(scmp["value"]) == [10000.0]
    assert len(ic.disagreements(root=ROOT).query("event_id == @CAC_9800")) == 1


# 4. The People's Daily criticism is not dated before the clean-up it is said to precede.
def test_peoples_daily_criticism_does_not_precede_the_cleanup(t):
    criticism, cleanup = event(t, PEOPLES_DAILY), event(t, CLEANUP)
    assert "ahead of" not in (criticism["summary"] + " " + criticism["notes"]).lower()
    assert criticism["date_start"] >= cleanup["date_start"]


# 5. Silicon Valley / Wuzhen: status derived, only speaker at the opening, no Bill Xia.
def test_silicon_valley_event_status_is_what_its_sources_earn(t):
    linked = links(t, SILICON_VALLEY)
    contradicting = linked[linked["stance"] == "contradicts"]
    status = event(t, SILICON_VALLEY)["evidence_status"]
    if status == "confirmed":
        assert all("Event stands:" in str(n) for n in contradicting["note"])
    assert ic.validate(ROOT).ok


def test_qualcomm_chief_was_the_only_foreign_executive_to_speak_not_to_attend(t):
    summary = event(t, SILICON_VALLEY)["summary"]
    assert "only foreign executive to speak at the opening" in summary
    assert "only foreign executive to attend" not in summary


def test_bill_xia_is_not_linked_without_a_source(t):
    assert "ac-bill-xia" not in set(t["actors"]["actor_id"])
    assert not t["event_actors"]["actor_id"].eq("ac-bill-xia").any()
    retired = set(ic.load("retired_ids", root=ROOT)["retired_id"])
    assert "ac-bill-xia" in retired


# 6. WIC opening: no unlinked CRI citation; who read Xi's letter rests on a linked source.
def test_wic_opening_notes_cite_only_linked_sources(t):
    import re

    notes = event(t, WIC_OPENING)["notes"]
    assert not re.search(r"\bCRI\b", notes) and "China Radio International" not in notes
    linked = set(links(t, WIC_OPENING)["source_id"])
    for sentence in re.split(r"(?<=[.;])\s+", notes):
        if "Huang Kunming" in sentence:
            cited = set(re.findall(r"so-[a-z0-9-]+", sentence))
            assert cited and cited <= linked, sentence


# 7. Figures: no duplicates; 'nearly two dozen measures' is its own quantity; the AP funding
#    figure belongs to the funding event.
def test_no_figure_is_repeated(t):
    numbers = t["figures"]
    assert not numbers.duplicated(["event_id", "quantity", "source_id", "value"]).any()


def test_nearly_two_dozen_measures_is_not_the_22_tasks(t):
    numbers = figures(t, BEIJING_PLAN)
    two_dozen = numbers[numbers["notes"].fillna("").str.contains("two dozen")]
    assert len(two_dozen) == 1
    assert two_dozen.iloc[0]["quantity"] != "major-tasks" and two_dozen.iloc[0]["qualifier"] == "approximate"


def test_watrix_funding_figure_is_on_the_funding_event(t):
    assert not (figures(t, WATRIX_POLICE)["metric"] == "funding_raised").any()
    funding = figures(t, WATRIX_FUNDING)
    assert ((funding["value"] == 100_000_000) & (funding["source_id"] == "so-associated-press-059ed5")).any()


# 8. Every contradicting link rests on a page the corpus returned when the audit searched again.
def test_every_contradicting_link_was_found_in_the_audit(t):
    found = set()
    for path in sorted((ROOT / "docs" / "audit" / "2026-12").glob("url-checks-*.csv")):
        with path.open(encoding="utf-8") as handle:
            found |= {row["source_id"] for row in csv.DictReader(handle) if row["found"] == "yes"}
    contradicting = t["event_sources"][t["event_sources"]["stance"] == "contradicts"]
    seed = contradicting[contradicting["event_id"].str.startswith("ev-2018-1")]
    assert len(seed) > 0
    assert set(seed["source_id"]) <= found
