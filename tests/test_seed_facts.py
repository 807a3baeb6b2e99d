"""Every fact of the seed page's six reports is in the data: one assertion per fact.

A later edit that loses one of them fails here. Facts are looked up through the public loader.
"""
from __future__ import annotations

import pandas as pd
import pytest

import infocontrols as ic


@pytest.fixture(scope="module")
def t():
    return {name: ic.load(name) for name in ic.tables()}


def event(t, event_id):
    rows = t["events"][t["events"]["event_id"] == event_id]
    assert len(rows) == 1, event_id
    return rows.iloc[0]


def measure(t, name):
    rows = t["measures"][t["measures"]["name"] == name]
    assert len(rows) == 1, name
    return rows.iloc[0]


def actors_of(t, event_id, role=None):
    links = t["event_actors"][t["event_actors"]["event_id"] == event_id]
    if role:
        links = links[links["role"] == role]
    return set(t["actors"].set_index("actor_id").loc[links["actor_id"], "name"])


def figures_of(t, event_id, metric):
    f = t["figures"]
    f = f[(f["event_id"] == event_id) & (f["metric"] == metric)]
    return {(v, str(u), str(q)) for v, u, q in zip(f["value"], f["unit"], f["qualifier"])}


def day(text):
    return pd.Timestamp(text)


CREDIT = "ev-2018-11-19-beijing-individual-credit-score-plan"
SCORE = "Beijing Individual Credit Score"


# 1. Beijing individual credit score ------------------------------------------------
def test_beijing_plan_released_2018_11_19(t):
    assert event(t, CREDIT)["date_start"] == day("2018-11-19")
    assert measure(t, "Beijing City Action Plan (2018-2020) for Further Optimization of the Business Environment")["date_announced"] == day("2018-11-19")


def test_beijing_plan_22_major_tasks(t):
    assert (22.0, "count", "exact") in figures_of(t, CREDIT, "tasks")


def test_beijing_plan_298_action_items(t):
    assert (298.0, "count", "exact") in figures_of(t, CREDIT, "action_items")


def test_beijing_plan_size_disagreement_recorded(t):
    # "nearly two dozen separate measures" announced at a news conference: its own quantity, approximate
    f = t["figures"]
    f = f[(f["event_id"] == CREDIT) & (f["quantity"] == "measures-announced")]
    assert {(v, str(q)) for v, q in zip(f["value"], f["qualifier"])} == {(24.0, "approximate")}
    assert "nearly two dozen" in event(t, CREDIT)["notes"]


def test_beijing_social_credit_regulations_by_end_2020(t):
    assert "by the end of 2020" in measure(t, "Beijing Municipal Social Credit Regulations")["description"]


def test_individual_credit_score_for_all_permanent_residents(t):
    assert "all permanent residents" in measure(t, SCORE)["description"]


def test_personal_credit_used_in_five_fields(t):
    text = measure(t, SCORE)["description"]
    for field in ("market access", "public services", "tourism travel", "entrepreneurship", "job hunting"):
        assert field in text


def test_green_channel_for_the_trustworthy(t):
    assert "'green channel' for trustworthy people" in measure(t, SCORE)["description"]


def test_blacklist_publishes_bad_records_regularly(t):
    text = measure(t, "Beijing credit blacklist system")["description"]
    assert "bad credit records of companies and individuals are published regularly" in text


def test_beijing_source_people_daily_online(t):
    sources = t["sources"].set_index("url")
    assert "People's Daily Online, 2018-11-20" in sources.loc["http://chinascope.org/archives/16799", "notes"]


# 2. CAC summons and self-media clean-up ---------------------------------------------
SUMMONS = "ev-2018-11-14-cac-summons-self-media-platforms"
RESULTS = "ev-2018-11-12-cac-reports-9800-self-media-accounts"
PROVISIONS = "Security Assessment Provisions for Internet Information Services with Public Opinion Attributes or Social Mobilization Capabilities"


def test_cac_met_platforms_on_2018_11_14(t):
    assert event(t, SUMMONS)["date_start"] == day("2018-11-14")
    assert "Cyberspace Administration of China" in actors_of(t, SUMMONS, "authority")


def test_nine_named_platforms_summoned(t):
    assert {"Baidu", "Tencent", "Sina", "Toutiao", "Sohu", "NetEase", "UC Toutiao", "Phoenix", "Zhihu"} <= actors_of(t, SUMMONS, "target")


def test_nine_versus_ten_platforms_recorded(t):
    assert {v for v, _, _ in figures_of(t, SUMMONS, "platforms_summoned")} >= {9.0, 10.0}
    assert "Yidian Zixun" in actors_of(t, SUMMONS, "target")


def test_no_rebirth_or_reincarnation_of_closed_accounts(t):
    summary = event(t, SUMMONS)["summary"]
    assert "reborn" in summary and "reincarnated" in summary


def test_cac_and_ccac_office_are_one_actor_with_aliases(t):
    cac = t["actors"].set_index("name").loc["Cyberspace Administration of China"]
    assert "Office of the Central Cyberspace Affairs Commission" in cac["aliases"]


def test_campaign_began_2018_10_20(t):
    assert event(t, "ev-2018-10-20-self-media-cleanup-begins")["date_start"] == day("2018-10-20")
    assert measure(t, "Self-media rectification campaign (2018)")["date_effective"] == day("2018-10-20")


def test_about_9800_accounts(t):
    assert (9800.0, "count", "at_least") in figures_of(t, RESULTS, "accounts_affected")


def test_four_kinds_of_problems(t):
    summary = event(t, RESULTS)["summary"]
    for problem in ("political harm", "rumours", "vulgarity", "plagiarism"):
        assert problem in summary


def test_most_accounts_on_wechat_and_weibo(t):
    assert "most accounts were on WeChat and Weibo" in event(t, RESULTS)["notes"]
    assert {"WeChat", "Weibo"} <= actors_of(t, RESULTS, "target")


def test_security_assessment_provisions_effective_2018_11_30(t):
    assert measure(t, PROVISIONS)["date_effective"] == day("2018-11-30")
    assert event(t, "ev-2018-11-30-security-assessment-provisions-effective")["date_basis"] == "effective"


def test_security_assessment_provisions_scope(t):
    text = measure(t, PROVISIONS)["description"]
    for service in ("forums", "blogs", "microblogs", "chat rooms", "communication groups", "public accounts",
                    "short videos", "webcasts", "information sharing", "small applications"):
        assert service in text


def test_cac_source_rfi_2018_11_16(t):
    assert "Radio France Internationale, 2018-11-16" in t["sources"].set_index("url").loc["http://chinascope.org/archives/16764", "notes"]


# 3. Guilin University of Electronic Technology -----------------------------------------
ORDER = "ev-2018-11-guet-orders-device-search"
GUET_MEASURE = "GUET document No. 77 device inspection"


def test_guet_in_guangxi(t):
    assert event(t, ORDER)["admin1"] == "CN-GX"
    assert t["actors"].set_index("name").loc["Guilin University of Electronic Technology", "name_zh"] == "桂林电子科技大学"


def test_guet_device_kinds(t):
    text = measure(t, GUET_MEASURE)["description"]
    for device in ("mobile phones", "computers", "mobile hard drives", "USB flash drives"):
        assert device in text


def test_guet_more_than_40000_people(t):
    assert (40000.0, "count", "at_least") in figures_of(t, ORDER, "people_covered")


def test_guet_checks_7_to_23_november(t):
    assert measure(t, GUET_MEASURE)["date_effective"] == day("2018-11-07")
    assert "from 7 to 23 November 2018" in measure(t, GUET_MEASURE)["description"]


def test_guet_document_no_77(t):
    assert "No. 77" in event(t, ORDER)["summary"] and "77号" in measure(t, GUET_MEASURE)["description"]


def test_guet_summaries_signed_sealed_to_security_unit(t):
    assert "summaries signed by their leader and sealed to the school security unit" in measure(t, GUET_MEASURE)["description"]


def test_guet_police_and_domestic_security_only_as_reported(t):
    # the sources say only that it may handle serious cases: no role in the event (audit 2026-12)
    assert "Domestic Security Protection Bureau" not in actors_of(t, ORDER)
    assert "police and the Domestic Security Protection Bureau may handle serious cases" in measure(t, GUET_MEASURE)["description"]


def test_guet_whether_checks_happened_is_disputed(t):
    disputed = event(t, "ev-2018-11-07-guet-device-checks-scheduled-start")
    assert disputed["evidence_status"] == "disputed"
    links = t["event_sources"]
    # Caixin and the SCMP contradict the half-month of checks (The Paper's copy, a third, was retired
    # in the 2026-12-02 sample audit: the corpus no longer returns it)
    contradicting = set(links[(links["event_id"] == disputed["event_id"]) & (links["stance"] == "contradicts")]["source_id"])
    assert {"so-caixin-20181115", "so-south-china-morning-post-20181114"} <= contradicting
    assert event(t, "ev-2018-11-13-guet-says-device-checks-not-carried-out")["event_type"] == "policy_reversal"


def test_guet_state_media_criticism(t):
    assert {"CCTV", "Beijing Youth Daily"} <= actors_of(t, "ev-2018-11-state-media-criticise-guet-device-search", "critic")


# 4. Fifth World Internet Conference --------------------------------------------------
WIC = "ev-2018-11-07-fifth-world-internet-conference-opens"
ABSENT = "ev-2018-11-07-silicon-valley-chiefs-skip-wuzhen"


def test_wic_opened_in_wuzhen_2018_11_07(t):
    row = event(t, WIC)
    assert row["date_start"] == day("2018-11-07") and row["location"] == "Wuzhen" and row["admin1"] == "CN-ZJ"


def test_qualcomm_ceo_attended_and_spoke(t):
    assert {"Qualcomm", "Steve Mollenkopf"} <= actors_of(t, ABSENT, "participant")
    assert "only foreign executive to speak at the opening" in event(t, ABSENT)["summary"]


def test_no_other_top_silicon_valley_executives(t):
    assert "chief executives stayed away" in event(t, ABSENT)["summary"]


def test_bill_xia_quote_rests_on_no_linked_source(t):
    # the seed page's Bill Xia quote is in no linked source; the Epoch Times copy quotes Hu Ping instead
    assert "Bill Xia" not in set(t["actors"]["name"])
    assert "Bill Xia" not in event(t, ABSENT)["notes"]


# 5. CCTV's "six crimes" ------------------------------------------------------------
CCTV = "ev-2018-11-10-cctv-focus-report-six-crimes-of-self-media"


def test_cctv_six_crimes(t):
    summary = event(t, CCTV)["summary"]
    for crime in ("vulgarity and pornography", "sensational headlines", "rumours", "black PR", "paying for readership", "plagiarism"):
        assert crime in summary


def test_peoples_daily_three_problems(t):
    summary = event(t, "ev-2018-11-peoples-daily-criticises-self-media")["summary"]
    for problem in ("extortion", "plagiarism", "deception"):
        assert problem in summary


def test_ccac_to_strengthen_supervision_and_punish(t):
    assert "Central Cyberspace Affairs Commission" in actors_of(t, CCTV, "participant")  # an official quoted in the programme
    assert "strengthen supervision and punish illegal accounts" in event(t, CCTV)["summary"]


# 6. Watrix gait recognition ---------------------------------------------------------
RELEASE = "ev-2018-10-watrix-releases-shuidi-shenjian"
POLICE = "ev-2018-11-05-police-use-watrix-gait-recognition"


def test_shui_di_shen_jian_name(t):
    assert measure(t, "Shui Di Shen Jian gait recognition system")["name_zh"] == "水滴神鉴"
    assert "Watrix" in actors_of(t, RELEASE, "developer")


def test_gait_94_percent_accuracy(t):
    assert (94.0, "percent", "exact") in figures_of(t, RELEASE, "recognition_accuracy")


def test_gait_one_hour_in_10_minutes(t):
    assert (10.0, "minutes", "exact") in figures_of(t, RELEASE, "processing_time")


def test_gait_six_times_faster(t):
    assert (6.0, "times", "exact") in figures_of(t, RELEASE, "speed_ratio")


def test_police_in_beijing_and_shanghai_use_it_per_ap(t):
    deployers = actors_of(t, POLICE, "deployer")
    assert any("Beijing" in a for a in deployers) and any("Shanghai" in a for a in deployers)
    links = t["event_sources"][t["event_sources"]["event_id"] == POLICE].merge(t["sources"], on="source_id")
    assert (links["original_outlet"] == "Associated Press").any()


def test_watrix_raised_100_million_yuan(t):
    assert (100000000.0, "cny", "exact") in figures_of(t, "ev-2018-10-watrix-raises-100-million-yuan", "funding_raised")


def test_watrix_ceo_huang_yongzhen(t):
    huang = t["actors"].set_index("name").loc["Huang Yongzhen"]
    assert "chief executive of Watrix" in huang["description"]
