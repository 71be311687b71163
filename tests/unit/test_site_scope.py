"""The scope rule (``arabtoday.site.scope``): inside the site is its host (with or without
``www.``) and port, and an address kind the crawler wants; an upgrade to https is not a move."""

from __future__ import annotations

import pytest

from arabtoday.site.scope import Scope

ACCEPTANCE = pytest.mark.acceptance


@pytest.mark.parametrize(("url", "why"), [
    ("https://www.arabstoday.net/en/politics/104257/a-title", None),
    ("https://arabstoday.net/ar/economy/680100", None),  # with or without www.
    ("http://www.arabstoday.net/en/", None),  # the same host over http
    ("https://www.arabstoday.net/robots.txt", None),
    ("https://www.arabstoday.net/sitemaps/en-2017-10.xml", None),
    ("https://evil.example/en/politics/104257/a-title", "offsite"),
    ("https://www.arabstoday.net.evil.example/en/politics/104257", "offsite"),
    ("https://www.arabstoday.net:8443/en/politics/104257", "offsite"),  # another port
    ("ftp://www.arabstoday.net/en/politics/104257", "offsite"),
    ("https://www.arabstoday.net:notaport/en/", "offsite"),
    ("https://www.arabstoday.net/en/tag/syria", "not_wanted"),
    ("https://www.arabstoday.net/en/print/104257", "not_wanted"),
    ("https://www.arabstoday.net/search?q=x", "not_wanted"),
])
def test_scope_on_the_live_site(url: str, why: str | None) -> None:
    assert Scope.from_base_url("https://www.arabstoday.net").why_not(url) == why


def test_scope_of_a_copy_on_a_port_keeps_the_port_and_allows_the_upgrade_to_https() -> None:
    scope = Scope.from_base_url("http://127.0.0.1:8000")
    assert scope.why_not("http://127.0.0.1:8000/en/politics/104257/x") is None
    assert scope.why_not("https://127.0.0.1:8000/en/politics/104257/x") is None
    assert scope.why_not("http://127.0.0.1:8001/en/politics/104257/x") == "offsite"
    assert scope.why_not("http://localhost:8000/en/politics/104257/x") == "offsite"


@ACCEPTANCE
def test_scope_rule_keeps_scheme_upgrades_and_refuses_other_hosts_ports_and_kinds() -> None:
    from arabtoday.site.scope import Scope

    scope = Scope.from_base_url("http://www.arabstoday.net")
    article = "/en/middle-east/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears"
    assert scope.why_not("http://www.arabstoday.net" + article) is None
    assert scope.why_not("https://www.arabstoday.net" + article) is None  # an upgrade to https is fine
    assert scope.why_not("http://evil.example" + article) == "offsite"
    assert scope.why_not("http://www.arabstoday.net:8080" + article) == "offsite"
    assert scope.why_not("http://www.arabstoday.net/en/tag/iraq") == "not_wanted"
    local = Scope.from_base_url("http://127.0.0.1:8000")
    assert local.why_not("http://127.0.0.1:8000" + article) is None
    assert local.why_not("http://127.0.0.1:8001" + article) == "offsite"
    assert local.why_not("http://localhost:8000" + article) == "offsite"
    assert local.why_not("http://127.0.0.2:8000" + article) == "offsite"
