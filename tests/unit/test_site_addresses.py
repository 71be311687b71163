import pytest

from arabtoday.site.addresses import Kind, article_ref, classify, sitemap_month, strip_tracking

BASE = "https://www.arabstoday.net"


@pytest.mark.parametrize(("url", "kind"), [
    ("https://www.arabstoday.net/en/politics/104257/slug", Kind.ARTICLE),
    ("https://arabstoday.net/en/politics/104257/slug?utm_source=rss&utm_medium=feed", Kind.ARTICLE),
    ("https://www.arabstoday.net/ar/economy/680100/%D8%B1%D8%AD%D8%A8", Kind.ARTICLE),
    ("https://www.arabstoday.net/en/amp/104257", Kind.AMP),
    ("https://www.arabstoday.net/en/print/104257", Kind.PRINT),
    ("https://www.arabstoday.net/ar/send/680100", Kind.PRINT),
    ("https://www.arabstoday.net/en/comment/add", Kind.PRINT),
    ("https://www.arabstoday.net/search?q=x", Kind.PRINT),
    ("https://www.arabstoday.net/en/politics", Kind.LISTING),
    ("https://www.arabstoday.net/en/politics?page=2", Kind.LISTING),
    ("https://www.arabstoday.net/en/", Kind.HOME),
    ("https://www.arabstoday.net/en/rss", Kind.FEED),
    ("https://www.arabstoday.net/en/sports/rss.xml", Kind.FEED),
    ("https://www.arabstoday.net/sitemap.xml", Kind.SITEMAP),
    ("https://www.arabstoday.net/sitemaps/en-2017-10.xml", Kind.SITEMAP),
    ("https://www.arabstoday.net/en/tag/Raqa", Kind.OTHER),
    ("https://www.facebook.com/sharer.php?u=https://www.arabstoday.net/en/politics/1/x", Kind.FOREIGN),
    ("https://ads.example-network.com/click?id=77", Kind.FOREIGN),
    ("mailto:desk@arabstoday.net", Kind.FOREIGN),
])
def test_classify(url: str, kind: Kind) -> None:
    assert classify(url, BASE).kind is kind


def test_canonical_form_drops_tracking_only() -> None:
    assert strip_tracking("https://WWW.arabstoday.net/en/x/1/y?utm_source=rss&ref=tw&page=2#c") == \
        "https://www.arabstoday.net/en/x/1/y?page=2"
    found = classify("https://www.arabstoday.net/en/politics/104257/slug?utm_source=rss", BASE)
    assert found.url == "https://www.arabstoday.net/en/politics/104257/slug"
    assert found.article is not None and found.article.id == "en-104257"


def test_same_article_under_every_address_has_one_id() -> None:
    addresses = [
        "https://www.arabstoday.net/en/middle-east/104257/dozens-of-is-fighters",
        "https://www.arabstoday.net/en/politics/104257/dozens-of-is-fighters?utm_source=rss",
        "https://www.arabstoday.net/en/amp/104257",
        "https://web.archive.org/web/2017/https://www.arabstoday.net/en/middle-east/104257/x",
    ]
    assert {article_ref(a).id for a in addresses} == {"en-104257"}


def test_sitemap_month() -> None:
    assert sitemap_month("https://x/sitemaps/ar-2017-10.xml") == ("ar", 2017, 10)
    assert sitemap_month("https://x/sitemap.xml") is None
