"""From a page's text blocks to the article body: boilerplate out, dateline,
author and source split off, AFP subhead decoration removed.

These rules work on text, not markup, so they apply unchanged to every parser:
the selector path (where they are a safety net) and the fallback path (where a
generic extractor may let chrome through). Each rule is one named pattern or
one small function, so a new kind of chrome is one line here plus a test.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from arabtoday.cleaning.dates import iso
from arabtoday.cleaning.text import count_and_hash, fold_for_match, normalize
from arabtoday.items import Article, RawArticle, copied_fields

# Wire agencies and house bylines: a dateline naming one of these has no author.
AGENCIES = frozenset(fold_for_match(a) for a in (
    "AFP", "AP", "Reuters", "KUNA", "WAM", "QNA", "MENA", "SPA", "DPA", "ANSA", "Xinhua", "UPI", "IRNA", "SANA",
    "Anadolu", "BNA", "ONA", "Petra", "NNA", "Agencies", "Arab Today", "Arabs Today",
    "العرب اليوم", "وكالات", "رويترز", "أ ف ب", "فرانس برس", "أ.ف.ب", "د ب أ", "كونا", "وام", "قنا", "واس", "بترا",
))
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")
_AGENCY_AR = re.compile(r"^(?:وكالة|وكالات)\b")
_AGENCY_ALT = "|".join(sorted((re.escape(a) for a in (
    "AFP", "AP", "Reuters", "KUNA", "WAM", "QNA", "MENA", "SPA", "DPA", "Arab Today", "العرب اليوم", "وكالات",
    "رويترز")), key=len, reverse=True))

_DASH = r"\s+[-–—]\s+"
# "Kobane (Syria) - AFP", "Cairo - Nadia Saleh", "حلب - العرب اليوم"
_PHRASE_START = r"[^.!?؟\"“”:;\-–—]"  # a place or a name: not punctuation, not a dash
_PHRASE = r"[^.!?؟\"“”:;]"
DATELINE = re.compile(
    rf"^(?P<place>{_PHRASE_START}{_PHRASE}{{0,60}}?){_DASH}(?P<who>{_PHRASE_START}{_PHRASE}{{0,50}})$")
DATELINE_MAX_WORDS = 10
# A dateline run into the first paragraph, with nothing in the markup to mark
# it: only safe to split when the byline is a known agency.
RUN_IN_DATELINE = re.compile(
    rf"^(?P<dateline>(?P<place>{_PHRASE_START}{_PHRASE}{{0,40}}?){_DASH}(?P<who>{_AGENCY_ALT}))\s+(?P<rest>\S.*)$"
)
SOURCE_LINE = re.compile(r"^(?:Source|Sources|المصدر|المصادر)\s*[:：]\s*(?P<source>.+)$", re.I)
# AFP marks subheads as "- City on verge of capture -"
SUBHEAD = re.compile(r"^[-–—]\s*(?P<text>[^-–—].*?)\s*[-–—]$")
READ_ALSO = re.compile(
    r"^(?:Read also|Also read|Read more|See also|Related|اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|إقرأ أيضاً|اقرأ ايضا|اقرأ أيضًا"
    r"|اقرأ المزيد|طالع أيضا|شاهد أيضا)\s*[:：]",
    re.I,
)
# Lines of the site's chrome (the seed page's boilerplate and its Arabic twin).
BOILERPLATE = tuple(re.compile(p, re.I) for p in (
    r"^(?:Last Updated|آخر تحديث)\s*:?\s*GMT",
    r"^(?:Arab Today|Arabs Today|العرب اليوم)\s*,\s*(?:arab today|العرب اليوم)",
    r"^(?:arabstoday\W*)+$",
    r"^(?:Arab Today|العرب اليوم) (?:Facebook|Twitter|Rss|Youtube|Instagram)\b",
    r"^(?:Name|E-?mail|Comment Title|Comment|Security Code|Mandatory|الاسم|البريد الال?كتروني|عنوان التعليق|تعليق"
    r"|رمز الحماية|مطلوب)\s*\*$",
    r"^:?\s*(?:Characters Left|حرف متبقي)$",
    r"^(?:Terms of use|شروط الاستخدام)$",
    r"^(?:Publishing Terms|شروط النشر)\s*:",
    r"^(?:I agree with the Terms of Use|أوافق على شروط الأستخدام|أوافق على شروط الاستخدام)$",
    r"^Maintained and developed by Arabs? Today",
    r"^All rights reserved to Arab Today",
    r"^تم تطويره و ?صيانته من قبل",
    r"^جميع الحقوق محفوظة ل",
    r"^بناية النخيل",
    r"^(?:Share|شارك)\s*:?(?:\s*(?:Facebook|Twitter|Print|WhatsApp|Telegram|Email|طباعة|واتساب))*$",
    r"^(?:Tags|More News|Comments|Breaking News|Related News|Advertisement|Sponsored|الكلمات الدالة|التعليقات|عاجل"
    r"|أخبار ذات صلة|إعلان|اعلان|أخبار أخرى)$",
    r"^GMT\s*\d{1,2}:\d{2}(?::\d{2})?\s+\d{4}\s+\S+\s*[,،]\s*\d{1,2}\s+\S+(?:\s+\S+)?$",  # a bare date line
))
KICKER_MAX_WORDS = 25
KICKER_MIN_WORDS = 2  # a one-word line reappearing in the text is a coincidence, not a kicker
DATELINE_SEARCH_BLOCKS = 3
_TERMINAL = re.compile(r"[.!?؟…\"”»]$")


# Every boilerplate rule in one pattern: one match per block instead of one per rule.
_ANY_BOILERPLATE = re.compile("|".join(f"(?:{p.pattern})" for p in (READ_ALSO, *BOILERPLATE)), re.I)


def is_boilerplate(block: str) -> bool:
    return _ANY_BOILERPLATE.match(block) is not None


def is_repeated_phrase(block: str) -> bool:
    """The keyword box repeats the lowercased title: "a b c a b c"."""
    if _TERMINAL.search(block):
        return False  # a sentence, not a keyword box
    toks = fold_for_match(block).split()
    half = len(toks) // 2
    return len(toks) >= 4 and len(toks) % 2 == 0 and toks[:half] == toks[half:]


def split_dateline(dateline: str) -> tuple[str | None, str | None]:
    """``(place, who)`` of a dateline, or ``(None, None)`` when it is not one."""
    m = DATELINE.match(dateline)
    if not m or len(dateline.split()) > DATELINE_MAX_WORDS:
        return None, None
    return m["place"].strip(), m["who"].strip()


def is_agency(who: str) -> bool:
    folded = fold_for_match(who)
    return bool(folded in AGENCIES or _ACRONYM.match(who) or _AGENCY_AR.match(who))


def author_of(dateline: str | None) -> str | None:
    """The reporter a dateline names; ``None`` for agencies and the house byline."""
    if not dateline:
        return None
    _, who = split_dateline(dateline)
    return None if who is None or is_agency(who) else who


def strip_source_label(text: str | None) -> str | None:
    text = normalize(text)
    if not text:
        return None
    m = SOURCE_LINE.match(text)
    return normalize(m["source"]) if m else text


def _take_dateline(blocks: list[str], hint: str | None) -> str | None:
    if hint:
        hint = normalize(hint)
        if blocks and fold_for_match(blocks[0]) == fold_for_match(hint):
            blocks.pop(0)
        elif blocks and fold_for_match(blocks[0]).startswith(fold_for_match(hint) + " "):
            blocks[0] = blocks[0][len(hint):].strip()
        return hint
    # The dateline opens the article: short lines before it (a caption, a
    # kicker a generic extractor let through) are not body.
    for i, block in enumerate(blocks[:DATELINE_SEARCH_BLOCKS]):
        if i and not all(_is_fragment(b) for b in blocks[:i]):
            break
        if split_dateline(block)[0] is not None:
            dateline = block
            del blocks[: i + 1]
            return dateline
        m = RUN_IN_DATELINE.match(block)
        if m:
            blocks[i] = m["rest"]
            del blocks[:i]
            return m["dateline"]
    return None


def _is_fragment(block: str) -> bool:
    """Too short, and not a sentence: a caption or a kicker, not a paragraph."""
    return len(block.split()) <= KICKER_MAX_WORDS and not _TERMINAL.search(block)


def _take_source(blocks: list[str], hint: str | None) -> str | None:
    source = strip_source_label(hint)
    # the source line closes the article; tolerate one trailing boilerplate line after it
    for i in range(len(blocks) - 1, max(len(blocks) - 3, -1), -1):
        m = SOURCE_LINE.match(blocks[i])
        if m:
            del blocks[i]
            return source or normalize(m["source"])
    return source


def _drop_kickers(blocks: list[str]) -> list[str]:
    """A short fragment *above* the article that reappears inside a longer
    paragraph is the page's kicker (a fragment of the lead) or a repeated
    headline, not a paragraph of its own.

    Only the leading fragments are candidates: inside the text, a short line
    without final punctuation is a subhead, a list item or a short quote, and
    its words recurring in a paragraph is what subheads do. On real pages the
    unrestricted rule deleted more article text than chrome.
    """
    drop = set()
    for i, block in enumerate(blocks[:DATELINE_SEARCH_BLOCKS]):
        if not _is_fragment(block):
            break  # the article has started
        if len(block.split()) < KICKER_MIN_WORDS:
            continue
        folded = fold_for_match(block)
        if any(folded in fold_for_match(later) for later in blocks[i + 1:] if len(later) > len(block)):
            drop.add(i)
    return [b for i, b in enumerate(blocks) if i not in drop]


def body_blocks(raw: RawArticle) -> tuple[list[str], str | None, str | None]:
    """Clean body paragraphs, dateline and source of a raw article."""
    not_body = {fold_for_match(t) for t in (raw.title, raw.image_caption, raw.kicker) if t}
    shortest = min((len(t) for t in not_body), default=0)
    longest = max((len(t) for t in not_body), default=0)
    blocks = []
    for block in raw.blocks:
        block = normalize(block)
        if not block or is_boilerplate(block) or is_repeated_phrase(block):
            continue
        if shortest - 5 <= len(block) <= longest + 5 and fold_for_match(block) in not_body:  # cheap length gate
            continue
        m = SUBHEAD.match(block)
        blocks.append(normalize(m["text"]) if m else block)
    dateline = _take_dateline(blocks, raw.dateline)
    source = _take_source(blocks, raw.source)
    return _drop_kickers(blocks), dateline, source


def clean(raw: RawArticle, crawled_at: datetime | None = None) -> Article:
    """The SPEC record for a raw article. Pure: same input, same record (but ``crawled_at``)."""
    blocks, dateline, source = body_blocks(raw)
    body = "\n\n".join(blocks)
    words, digest = count_and_hash(body) if body else (0, "")
    fetched = iso(crawled_at or datetime.now(timezone.utc))
    record = Article(
        **copied_fields(raw),  # url, lang, dates, image_url, extractor(_version): as the page object read them
        id=raw.id,
        section=normalize(raw.section) or None,
        title=normalize(raw.title),
        dateline=dateline,
        author=author_of(dateline),
        source=source,
        image_caption=normalize(raw.image_caption) or None,
        body=body,
        tags=[t for t in (normalize(t) for t in raw.tags) if t],
        word_count=words,
        content_hash=digest,
        crawled_at=fetched,
    )
    if record.captured_at is None:  # a live fetch: captured when fetched
        record.captured_at = fetched
    return record
