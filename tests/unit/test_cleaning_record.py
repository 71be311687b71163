"""Raw record -> clean record (``arabtoday.cleaning.record``): datelines, authors, source lines,
boilerplate, kickers and subheads."""

from __future__ import annotations

import pytest

from arabtoday.cleaning.record import author_of, body_blocks, is_boilerplate, split_dateline, strip_source_label
from arabtoday.cleaning.text import normalize
from arabtoday.items import RawArticle


def raw(blocks: list[str], **kw: object) -> RawArticle:
    return RawArticle(url="https://x/en/politics/1/a", lang="en", number="1", extractor="t", blocks=blocks, **kw)


@pytest.mark.parametrize(("dateline", "author"), [
    ("Cairo - Nadia Saleh", "Nadia Saleh"),
    ("Kobane (Syria) - AFP", None),
    ("Beirut - Arab Today", None),
    ("Baghdad - KUNA", None),
    ("Khartoum - Reuters", None),
    ("طرابلس - كريم بوزيد", "كريم بوزيد"),
    ("حلب - العرب اليوم", None),
    ("دمشق - وكالات", None),
    ("الرياض - وكالة الأنباء السعودية", None),
    (None, None),
])
def test_author_from_dateline(dateline: str | None, author: str | None) -> None:
    assert author_of(dateline) == author


def test_dateline_on_its_own_line_is_split_off() -> None:
    blocks, dateline, source = body_blocks(raw(["Kobane (Syria) - AFP", "First paragraph.", "Source: AFP"]))
    assert (blocks, dateline, source) == (["First paragraph."], "Kobane (Syria) - AFP", "AFP")


def test_dateline_run_into_first_paragraph_with_known_agency() -> None:
    blocks, dateline, _ = body_blocks(raw(["Baghdad - KUNA The minister said on Monday that talks resumed."]))
    assert dateline == "Baghdad - KUNA"
    assert blocks == ["The minister said on Monday that talks resumed."]


def test_dateline_hint_from_markup_wins_and_is_removed_from_text() -> None:
    blocks, dateline, _ = body_blocks(raw(["Damascus - Arab Today \"Prices should stabilise,\" he said."],
                                          dateline="Damascus - Arab Today"))
    assert dateline == "Damascus - Arab Today"
    assert blocks == ["\"Prices should stabilise,\" he said."]


def test_a_sentence_is_not_a_dateline() -> None:
    assert split_dateline("The army and the SDF are fighting two separate campaigns in the province.") == \
        (None, None)
    assert split_dateline("- City on verge of capture -") == (None, None)
    blocks, dateline, _ = body_blocks(raw(["Samir Aoun told reporters in Moscow - on Monday - that talks failed."]))
    assert dateline is None and len(blocks) == 1


def test_source_line_labels() -> None:
    assert strip_source_label("Source: AFP") == "AFP"
    assert strip_source_label("المصدر: وكالات") == "وكالات"
    assert strip_source_label("WAM") == "WAM"
    _, _, source = body_blocks(raw(["Text.", "المصدر: وكالة الأنباء القطرية"]))
    assert source == "وكالة الأنباء القطرية"


def test_afp_subheads_kept_without_decoration() -> None:
    lines = ["Para one.", "- City on verge of capture -", "Para two.", "- المستثمرون يترقبون -"]
    blocks, _, _ = body_blocks(raw(lines))
    assert blocks == ["Para one.", "City on verge of capture", "Para two.", "المستثمرون يترقبون"]


@pytest.mark.parametrize("line", [
    "Read also: Local officials cancelled a housing programme in Jerusalem",
    "اقرأ أيضا: أطلق البنك المركزي الجدول الزمني للانتخابات",
    "اقرأ أيضاً: عنوان",
    "Advertisement",
    "Last Updated : GMT 06:49:16",
    "Arab Today, arab today",
    "Arab Today, arab today Dozens of IS fighters surrender as Raqa's fall nears",
    "Name *",
    "E-mail *",
    "Comment Title*",
    ": Characters Left",
    "Mandatory *",
    "Terms of use",
    "Publishing Terms: Not to offend the author, or to persons or sanctities or attacking religions.",
    "I agree with the Terms of Use",
    "Security Code*",
    "arabstoday arabstoday arabstoday arabstoday",
    "arabstoday, Arabstoday, Arabstoday",
    "Maintained and developed by Arabs Today Group SAL.",
    "All rights reserved to Arab Today Media Group 2021 ©",
    "بناية النخيل - رأس النبع _ خلف السفارة الفرنسية _بيروت - لبنان",
    "Arab Today Facebook,arab today facebook Arab Today Twitter,arab today twitter",
    "GMT 18:15 2017 Thursday ,23 February",
    "Share: Facebook Twitter Print",
    "شارك: Facebook Twitter طباعة",
])
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate(normalize(line))


def test_article_sentences_are_not_boilerplate() -> None:
    for line in ["Terms of the deal were not disclosed.", "The comment drew criticism from Name-brand firms.",
                 "وقال المصدر إن المفاوضات مستمرة."]:
        assert not is_boilerplate(line)


def test_keyword_box_and_kicker_are_dropped() -> None:
    blocks, _, _ = body_blocks(raw([
        "as the fall of the bastion",
        "Dozens of fighters surrendered, as the fall of the bastion nears.",
        "dozens of fighters surrender dozens of fighters surrender",
    ]))
    assert blocks == ["Dozens of fighters surrendered, as the fall of the bastion nears."]


def test_subheads_list_items_and_short_quotes_inside_the_text_are_kept() -> None:
    """Short lines without final punctuation whose words recur in a longer
    paragraph are subheads, list items and quotes when they sit inside the
    text (on real pages the old rule deleted mostly these)."""
    blocks = [
        "The council approved the water plan on Monday after a long debate.",
        "Higher tariffs",
        "Higher tariffs will apply from June to households that use more than the basic allowance.",
        "What changes for farmers",
        "The plan sets out what changes for farmers who irrigate with groundwater.",
        "Chatbot",
        "The ministry will also open a chatbot to answer questions about bills.",
    ]
    kept, _, _ = body_blocks(raw(blocks))
    assert kept == blocks


def test_a_kicker_above_the_article_is_still_dropped() -> None:
    lead = "While the chamber of commerce welcomed the plan, farmers said it would raise their costs."
    kept, _, _ = body_blocks(raw(["while the chamber of commerce", lead, "Second paragraph."]))
    assert kept == [lead, "Second paragraph."]
