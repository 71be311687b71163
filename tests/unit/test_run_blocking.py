"""Block pages (``arabtoday.run.blocking``): one body served for many article addresses, or a short
page that says it blocks."""

from __future__ import annotations

from arabtoday.run.blocking import BlockPageDetector, says_blocked


def test_one_body_for_many_article_addresses_is_a_block_page() -> None:
    detector = BlockPageDetector()
    page = b"<html><body><h1>Please wait</h1></body></html>"
    verdicts = [detector.served_for_many(page, f"https://x/en/politics/{n}") for n in range(4)]
    assert verdicts == [False, False, True, True]
    assert not detector.served_for_many(page.replace(b"wait", b"hold"), "https://x/en/politics/9")


def test_a_short_page_that_says_it_blocks_is_one_and_an_article_that_mentions_it_is_not() -> None:
    assert says_blocked(b"<html><title>Access denied</title><body>Access denied</body></html>")
    assert says_blocked("<html><body>تم حظر عنوانك</body></html>".encode())
    article = b'<html><head><meta property="og:type" content="article"></head><body>Entry was forbidden.</body>'
    assert not says_blocked(article)
