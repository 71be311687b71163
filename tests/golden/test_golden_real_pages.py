"""Every cleaning rule that deletes text, run on real pages of other publishers
(``benchmarks/realpages/``, expected bodies made by hand or by per-site
parsers): a rule that deletes article text there is too broad.

For each page, the generic extractor's recall-leaning output (the most
chrome-laden input cleaning meets) goes through ``cleaning.body_blocks``; each
block a rule removed is looked up in the expected body. The bound per rule is
a share of what it removed, so a rule that starts eating articles fails here.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from functools import cache

import pytest

from arabtoday.cleaning import record as C
from arabtoday.cleaning.text import fold_for_match, normalize
from arabtoday.extraction import Page, decode_html
from arabtoday.extraction.cascade import TRAFILATURA_RECALL, generic_blocks
from arabtoday.extraction.parsers import FallbackParser
from arabtoday.extraction.selectors import LAYOUTS
from arabtoday.items import RawArticle
from arabtoday.site.addresses import article_ref
from conftest import ROOT

DATA = ROOT / "benchmarks" / "realpages"
SITE = "https://www.arabstoday.net"
# Every other page of the manifest: enough for each rule to act dozens of times, half the run time.
SAMPLE_STEP = 2
# A rule may remove article text on at most this share of the blocks it removes (the expected
# texts are not perfect gold: some include a teaser or a repeated headline).
MAX_WRONG_SHARE = 0.15


def manifest() -> list[dict]:
    return [json.loads(line) for line in (DATA / "manifest.jsonl").read_text("utf-8").splitlines()]


@cache
def removals() -> dict[str, Counter]:
    """Blocks removed per rule, split into article text (``True``) and not (``False``)."""
    found: dict[str, Counter] = {}
    for i, row in enumerate(manifest()[::SAMPLE_STEP]):
        url = f"{SITE}/{'ar' if row['lang'] == 'ar' else 'en'}/politics/{900_001 + i}"
        page = Page(decode_html(gzip.decompress((DATA / row["file"]).read_bytes())).text, url)
        parser = FallbackParser(page, article_ref(url), url)
        raw = RawArticle(url=url, lang="en", number="1", extractor="test", title=parser.title(),
                         image_caption=parser.image_caption(), blocks=generic_blocks(page, TRAFILATURA_RECALL))
        want = fold_for_match(row["body"])
        for rule, block in removed_blocks(raw):
            found.setdefault(rule, Counter())[fold_for_match(block) in want] += 1
    return found


def removed_blocks(raw) -> list[tuple[str, str]]:
    """(rule, block) for every block cleaning removed, attributed to the rule that removed it."""
    not_body = {fold_for_match(t) for t in (raw.title, raw.image_caption, raw.kicker) if t}
    out = []
    survivors = []
    for block in (normalize(b) for b in raw.blocks):
        if not block:
            continue
        if C.is_boilerplate(block):
            out.append(("boilerplate", block))
        elif C.is_repeated_phrase(block):
            out.append(("repeated_phrase", block))
        elif fold_for_match(block) in not_body:
            out.append(("title_caption_kicker", block))
        else:
            m = C.SUBHEAD.match(block)
            survivors.append(normalize(m["text"]) if m else block)
    kept, dateline, source = C.body_blocks(raw)
    if dateline and fold_for_match(dateline) not in {fold_for_match(b) for b in kept}:
        out.append(("dateline", dateline))
    if source:
        out.append(("source", source))
    kept_set = set(kept)
    out.extend(("kicker", b) for b in survivors if b not in kept_set and b != dateline
               and not C.SOURCE_LINE.match(b) and not b.startswith(dateline or "\0"))
    return out


@pytest.mark.parametrize("rule", ["boilerplate", "repeated_phrase", "title_caption_kicker", "kicker"])
def test_cleaning_rule_does_not_delete_article_text_on_real_pages(rule: str) -> None:
    counts = removals().get(rule, Counter())
    removed = counts[True] + counts[False]
    assert counts[True] <= MAX_WRONG_SHARE * removed, (rule, dict(counts))


def test_the_rules_are_exercised() -> None:
    """The bound above means something only if the rules fire on these pages."""
    counts = removals()
    assert sum(counts.get("title_caption_kicker", Counter()).values()) >= 10
    assert sum(counts.get("repeated_phrase", Counter()).values()) >= 5
    assert sum(counts.get("kicker", Counter()).values()) >= 1


def test_real_pages_never_claimed_by_the_site_layout() -> None:
    """No other publisher's page proves to be the site's known layout."""
    from arabtoday.extraction import choose_parser

    for row in manifest()[::SAMPLE_STEP * 4]:
        html = decode_html(gzip.decompress((DATA / row["file"]).read_bytes())).text
        parser = choose_parser(Page(html, f"{SITE}/en/politics/900000"))
        assert parser is FallbackParser, (row["file"], [layout.name for layout in LAYOUTS])
