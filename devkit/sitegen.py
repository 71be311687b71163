"""Render a large copy of the site in the snapshot's layout, for benchmarks and scale tests.

    python -m devkit generate OUT_DIR --articles 5000 [--seed 1]

Both editions, six sections each, every discovery source the real site has:
robots.txt, a sitemap index with monthly sitemaps, edition and section feeds,
home and paginated section listings. Article pages reuse the chrome of a
snapshot page (header, menu, comment form, footer) around generated text,
datelines, source lines, captions, "Read also" links and inline ads. Each
generated story has its own sentences (random names, places, numbers), so none
is a near copy of another. ``OUT_DIR/_expected_ids.txt`` lists the ids a
correct crawl emits. Serve it with ``python -m devkit serve OUT_DIR``.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from devkit.site import BUNDLED_SITE as SNAPSHOT

SECTIONS = {
    "en": {"politics": "Politics", "middle-east": "Middle East", "economy": "Economy", "sports": "Sports",
           "culture": "Culture", "technology": "Technology"},
    "ar": {"politics": "سياسة", "middle-east": "الشرق الأوسط", "economy": "اقتصاد", "sports": "رياضة",
           "culture": "ثقافة", "technology": "تكنولوجيا"},
}
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
AR_DAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
AR_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
             "ديسمبر"]
AR_LEVANT = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
             "تشرين الثاني", "كانون الأول"]
EN_WORDS = ("minister council harbour market union talks budget project convoy agency museum bridge "
            "festival election court border railway school hospital village factory port tender reform "
            "drought season league studio archive treaty summit airport vaccine subsidy pipeline "
            "harvest tariff").split()
AR_WORDS = ("الوزير المجلس الميناء السوق الاتحاد المحادثات الموازنة المشروع القافلة الوكالة المتحف "
            "الجسر المهرجان الانتخابات المحكمة الحدود السكة المدرسة المستشفى القرية المصنع المناقصة "
            "الإصلاح الجفاف الموسم الدوري الاستوديو الأرشيف المعاهدة القمة المطار اللقاح الدعم الأنبوب "
            "الحصاد التعرفة").split()
CITIES = {"en": ("Beirut Cairo Amman Baghdad Dubai Riyadh Tunis Rabat Doha Muscat Aden Homs Basra Sfax").split(),
          "ar": ("بيروت القاهرة عمان بغداد دبي الرياض تونس الرباط الدوحة مسقط عدن حمص البصرة صفاقس").split()}
NAMES = {"en": ["Nadia Saleh", "Karim Bouzid", "Leila Mansour", "Omar Farouk", "Huda Nasser", "Rami Haddad"],
         "ar": ["نادية صالح", "كريم بوزيد", "ليلى منصور", "عمر فاروق", "هدى ناصر", "رامي حداد"]}
AGENCIES = {"en": ["AFP", "Reuters", "KUNA", "WAM", "Arab Today"], "ar": ["وكالات", "رويترز", "العرب اليوم"]}
BASE_ID = {"en": 200_000, "ar": 800_000}


def sentence(rng: random.Random, lang: str) -> str:
    words = EN_WORDS if lang == "en" else AR_WORDS
    body = " ".join(rng.choice(words) for _ in range(rng.randint(9, 16)))
    city, n = rng.choice(CITIES[lang]), rng.randint(2, 9999)
    return f"In {city}, {n} {body}." if lang == "en" else f"وفي {city}، {n} {body}."


def date_line(when: datetime, lang: str, rng: random.Random) -> str:
    day = str(when.day) if rng.random() < 0.5 else f"{when.day:02d}"
    if lang == "en":
        return f"GMT {when:%H:%M} {when.year} {EN_DAYS[when.weekday()]} ,{day} {EN_MONTHS[when.month - 1]}"
    months = AR_MONTHS if rng.random() < 0.5 else AR_LEVANT
    return f"GMT {when:%H:%M} {when.year} {AR_DAYS[when.weekday()]} ,{day} {months[when.month - 1]}"


class Chrome:
    """Header and footer of a snapshot page, with links to snapshot articles taken out."""

    def __init__(self, lang: str) -> None:
        page = next((SNAPSHOT / lang).glob("politics/*/*/index.html")).read_text("utf-8")
        body = page[page.index("<body"):]
        self.top = re.sub(r'<div id="ticker">.*?</div>\n', "", body[:body.index('<div id="content"')], flags=re.S)
        tail = page[page.index('<div class="comments-box">'):]
        self.tail = re.sub(r'<aside class="more-news">.*?</aside>\n', "", tail, flags=re.S)
        self.tail = re.sub(r'<div class="kw">.*?</div>', "", self.tail)


def article_html(a: dict, chrome: Chrome, rng: random.Random) -> str:
    lang, t = a["lang"], html.escape
    paras = [f"<p>{t(p)}</p>" for p in a["paragraphs"]]
    if a["read_also"]:
        label = "Read also:" if lang == "en" else "اقرأ أيضا:"
        paras.insert(2, f'<p><strong>{label}</strong> <a href="__BASE__{a["read_also"]["path"]}">'
                        f'{t(a["read_also"]["title"])}</a></p>')
    if rng.random() < 0.3:
        paras.insert(1, '<div class="inner-ad"><span class="ad-label">Advertisement</span>'
                        '<script>googletag.cmd.push(function(){});</script></div>')
    dateline = f'<p class="article-dateline">{t(a["dateline"])}</p>\n' if a["dateline"] else ""
    source = (f'<p class="article-source">{"Source" if lang == "en" else "المصدر"}: {t(a["source"])}</p>\n'
              if a["source"] else "")
    image = (f'<div class="article-image"><img src="__BASE__/img/{a["id"]}.jpg" alt="Arab Today, arab today">'
             f'<p class="image-caption">{t(a["caption"])}</p></div>\n')
    return f"""<!DOCTYPE html>
<html lang="{lang}" dir="{'ltr' if lang == 'en' else 'rtl'}">
<head>
<meta charset="utf-8">
<title>{t(a['title'].lower())}</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{t(a['title'])}">
<link rel="canonical" href="__BASE__{a['path']}">
<link rel="amphtml" href="__BASE__/{lang}/amp/{a['number']}">
<meta property="og:image" content="__BASE__/img/{a['id']}.jpg">
</head>
{chrome.top}<div id="content" class="wrap"><div class="breadcrumbs"><a href="__BASE__/{lang}/">Arab Today</a> &raquo; <a href="__BASE__/{lang}/{a['section']}">{t(a['section_name'])}</a></div>
<div class="article-page">
<div class="article-head"><div class="article-kicker">{t(a['paragraphs'][0][:40])}</div><h1 class="article-title">{t(a['title'])}</h1><div class="article-meta"><span class="article-date">{a['date_line']}</span> <span class="article-section"><a href="__BASE__/{lang}/{a['section']}">{t(a['section_name'])}</a></span></div></div>
{image}<div class="share-bar">Share: <a href="https://www.facebook.com/sharer.php?u=__BASE__{a['path']}">Facebook</a> <a href="__BASE__/{lang}/print/{a['number']}">Print</a></div>
<div class="article-body">
{dateline}{chr(10).join(paras)}
{source}</div>
<div class="article-tags"><span>Tags</span> <a href="__BASE__/{lang}/tag/x">{t(a['tag'])}</a></div>
</div>
{chrome.tail}"""  # noqa: E501 - the markup reads best as it is served


def listing_html(lang: str, title: str, items: list[dict], next_path: str | None, chrome: Chrome) -> str:
    rows = "\n".join(
        f'<div class="news-item"><h2><a href="__BASE__{a["path"]}">{html.escape(a["title"])}</a></h2>'
        f'<span class="date">{a["date_line"]}</span></div>' for a in items)
    nav = f'<div class="pagination"><a class="next" href="__BASE__{next_path}">Next</a></div>' if next_path else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'</head>{chrome.top}<div id="content" class="wrap"><h1 class="section-title">{html.escape(title)}'
            f'</h1><div class="news-list">\n{rows}\n</div>{nav}</div>\n</body></html>\n')


def rss(lang: str, items: list[dict]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(a['title'])}</title><link>__BASE__{a['path']}?utm_source=rss</link>"
        f"<pubDate>{a['when']:%a, %d %b %Y %H:%M:%S} +0000</pubDate><guid isPermaLink=\"false\">{a['id']}</guid>"
        f"</item>\n" for a in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Arab Today</title>'
            f"<link>__BASE__/{lang}/</link><language>{lang}</language>\n{entries}</channel></rss>\n")


def generate(root: Path, n: int, seed: int = 1, per_page: int = 20) -> list[str]:
    rng = random.Random(seed)
    chrome = {lang: Chrome(lang) for lang in SECTIONS}
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    articles: list[dict] = []
    for i in range(n):
        lang = "ar" if i % 2 else "en"
        number = BASE_ID[lang] + i
        section = rng.choice(list(SECTIONS[lang]))
        when = start + timedelta(minutes=37 * i + rng.randint(0, 30))
        title = " ".join(rng.choice(EN_WORDS if lang == "en" else AR_WORDS) for _ in range(7)) + f" {number}"
        slug = re.sub(r"\W+", "-", title.lower()).strip("-")  # Arabic slugs are percent-encoded in addresses
        byline = rng.random()
        city = rng.choice(CITIES[lang])
        dateline = (f"{city} - {rng.choice(NAMES[lang])}" if byline < 0.3 else
                    f"{city} - {rng.choice(AGENCIES[lang])}" if byline < 0.8 else None)
        articles.append({
            "id": f"{lang}-{number}", "lang": lang, "number": number, "section": section,
            "section_name": SECTIONS[lang][section], "when": when, "date_line": date_line(when, lang, rng),
            "title": title[0].upper() + title[1:], "path": f"/{lang}/{section}/{number}/{quote(slug, safe='-')}",
            "file": f"{lang}/{section}/{number}/{slug}/index.html",
            "paragraphs": [" ".join(sentence(rng, lang) for _ in range(rng.randint(1, 3)))
                           for _ in range(rng.randint(4, 9))],
            "dateline": dateline, "source": rng.choice(AGENCIES[lang]) if rng.random() < 0.7 else None,
            "caption": f"{rng.choice(EN_WORDS if lang == 'en' else AR_WORDS)} {city}", "tag": city,
            "read_also": None,
        })
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for a in articles:
        if by_lang[a["lang"]] and rng.random() < 0.2:
            a["read_also"] = rng.choice(by_lang[a["lang"]][-50:])
        by_lang[a["lang"]].append(a)
    for a in articles:
        page = root / a["file"]
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(article_html(a, chrome[a["lang"]], rng), "utf-8")
    sitemaps: dict[str, list[dict]] = defaultdict(list)
    for lang, items in by_lang.items():
        newest = sorted(items, key=lambda a: a["when"], reverse=True)
        (root / lang).mkdir(parents=True, exist_ok=True)
        (root / lang / "index.html").write_text(listing_html(lang, "Arab Today", newest[:per_page], None, chrome[lang]),
                                                "utf-8")
        (root / lang / "rss.xml").write_text(rss(lang, newest[:30]), "utf-8")
        for section in SECTIONS[lang]:
            in_section = [a for a in newest if a["section"] == section]
            pages = [in_section[k:k + per_page] for k in range(0, len(in_section), per_page)] or [[]]
            folder = root / lang / section
            folder.mkdir(parents=True, exist_ok=True)
            for p, chunk in enumerate(pages, 1):
                nxt = f"/{lang}/{section}?page={p + 1}" if p < len(pages) else None
                name = "index.html" if p == 1 else f"index.page-{p}.html"
                (folder / name).write_text(listing_html(lang, SECTIONS[lang][section], chunk, nxt, chrome[lang]),
                                           "utf-8")
            (folder / "rss.xml").write_text(rss(lang, in_section[:30]), "utf-8")
        for a in items:
            sitemaps[f"{lang}-{a['when']:%Y-%m}"].append(a)
    (root / "sitemaps").mkdir(exist_ok=True)
    index = []
    for name, items in sorted(sitemaps.items()):
        urls = "".join(f"<url><loc>__BASE__{a['path']}</loc><lastmod>{a['when']:%Y-%m-%dT%H:%M:%S}+00:00</lastmod>"
                       f"</url>\n" for a in items)
        (root / "sitemaps" / f"{name}.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}</urlset>\n", "utf-8")
        index.append(f"<sitemap><loc>__BASE__/sitemaps/{name}.xml</loc></sitemap>")
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(index) + "\n</sitemapindex>\n", "utf-8")
    (root / "robots.txt").write_text((SNAPSHOT / "robots.txt").read_text("utf-8"), "utf-8")
    (root / "_site.json").write_text(json.dumps({"aliases": {"/en/rss": "/en/rss.xml", "/ar/rss": "/ar/rss.xml"}}),
                                     "utf-8")
    ids = sorted(a["id"] for a in articles)
    (root / "_expected_ids.txt").write_text("\n".join(ids) + "\n", "utf-8")
    return ids
