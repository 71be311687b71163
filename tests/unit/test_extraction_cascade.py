"""The body as a decision between candidates (``arabtoday.extraction.cascade``): JSON-LD bodies,
commented-out text, tables, and a page with no article text."""

from __future__ import annotations

import json

from arabtoday.cleaning.text import word_count
from arabtoday.extraction import extract
from arabtoday.extraction.cascade import ld_body_blocks

SITE = "https://www.arabstoday.net"


def test_json_ld_article_body_with_markup_is_read_as_html() -> None:
    paragraphs = ["The council met on Monday to discuss the water plan and the costs it will bring over the years.",
                  "Members voted to publish the full study next month, after a long debate about the tariffs."]
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council meets",
          "datePublished": "2020-01-02T10:00:00Z", "articleBody": "".join(f"<p>{p}</p>" for p in paragraphs)}
    assert ld_body_blocks(ld["articleBody"]) == paragraphs
    html = (f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
            '<body><div id="app"><h1>Council meets</h1></div><footer>All rights reserved</footer></body></html>')
    record = extract(html, f"{SITE}/en/politics/78")
    assert "<p>" not in record["body"] and "&lt;" not in record["body"]
    assert all(p in record["body"] for p in paragraphs)


def test_commented_out_text_never_reaches_the_body() -> None:
    paras = "".join(f"<p>Paragraph {i} of the story says the council met on Monday to discuss the water plan.</p>"
                    for i in range(5))
    html = (f'<html><head><meta property="og:title" content="Council meets"></head><body><article><h1>Council meets'
            f'</h1><div class="content">{paras}<!-- <p>Editor note: the quote below is unconfirmed, check it.</p> -->'
            f'<!-- related: <ul><li>Old story about the water plan from last year</li></ul> --></div></article>'
            f'</body></html>')
    record = extract(html, f"{SITE}/en/politics/77")
    assert "Paragraph 4" in record["body"]
    assert "Editor note" not in record["body"] and "Old story" not in record["body"]


def test_a_page_without_article_text_has_an_empty_body_not_chrome() -> None:
    """Nothing to decide between: the record's body is empty (the pipeline drops it as missing_body)."""
    html = ('<html><head><title>Arab Today</title></head><body><nav><a href="/en/politics">Politics</a>'
            '<a href="/en/economy">Economy</a></nav><footer>All rights reserved to Arab Today</footer></body></html>')
    record = extract(html, f"{SITE}/en/politics/79")
    assert record["body"] == "" and word_count(record["body"]) == 0


def test_a_data_table_in_the_article_is_kept_row_by_row() -> None:
    """Precision settings without tables threw election results and price lists away."""
    results = [("National Bloc", "412,300", "31"), ("Reform List", "287,950", "22"), ("Independents", "98,400", "7")]
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in results)
    html = ('<html><head><meta property="og:title" content="Final results of the municipal elections"></head><body>'
            '<header><nav><a href="/en/">Home</a> <a href="/en/politics">Politics</a></nav></header><main><article>'
            '<h1>Final results of the municipal elections</h1><p>The electoral commission published the final '
            'results on Monday, a day later than planned, after recounts in two districts.</p><table><thead><tr>'
            f'<th>List</th><th>Votes</th><th>Seats</th></tr></thead><tbody>{rows}</tbody></table><p>Turnout reached '
            '41 percent, up from 33 percent four years ago.</p></article></main><footer>All rights reserved</footer>'
            '</body></html>')
    body = extract(html, f"{SITE}/en/politics/90")["body"].split("\n\n")
    assert body[0].startswith("The electoral commission") and body[-1].startswith("Turnout reached")
    assert body[1:-1] == ["List | Votes | Seats", *(" | ".join(r) for r in results)]
