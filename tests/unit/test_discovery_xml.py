"""Safe XML (``arabtoday.discovery.xml``), for sitemaps and feeds alike: hostile XML (entities)
is refused, broken bodies give a clear error."""

from __future__ import annotations

import pytest

from arabtoday.discovery.feeds import parse_feed
from arabtoday.discovery.sitemaps import parse_sitemap
from arabtoday.discovery.xml import BadXML

BASE = "http://site.test"


@pytest.mark.parametrize("body", [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
    # external entity (XXE)
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<urlset><url><loc>&xxe;</loc></url></urlset>",
])
def test_hostile_xml_is_refused(body: bytes) -> None:
    with pytest.raises(BadXML, match="entities"):
        parse_feed(body, BASE)
    with pytest.raises(BadXML, match="entities"):
        parse_sitemap(body, BASE)


@pytest.mark.parametrize("body", [b"", b"<html><body>Not found</body></html>", b"\x1f\x8bnot gzip", b"\xff\xfe\x00"])
def test_broken_feeds_and_sitemaps_give_a_clear_error(body: bytes) -> None:
    with pytest.raises(BadXML):
        parse_sitemap(body, BASE)
    with pytest.raises(BadXML):
        parse_feed(body, BASE)
