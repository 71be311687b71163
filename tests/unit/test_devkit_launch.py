"""``devkit.launch``: the in-process crawl's settings and feeds are the ones ``scrapy crawl`` makes of
the same options."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from devkit.launch import NO_POLITENESS, crawl_command, crawl_settings


def project_settings() -> Settings:
    values = Settings()
    values.setmodule("arabtoday.settings", priority="project")
    return values


def test_without_an_output_both_write_the_default_feed() -> None:
    feeds = crawl_settings().getdict("FEEDS")
    assert list(feeds) == [project_settings().get("ARABTODAY_DEFAULT_FEED")]


def test_settings_given_win_over_the_project_s() -> None:
    values = crawl_settings(settings={"ARABTODAY_FSYNC_EVERY": "7", **NO_POLITENESS})
    assert values.getint("ARABTODAY_FSYNC_EVERY") == 7
    assert values.getfloat("DOWNLOAD_DELAY") == 0
    assert "-s" in crawl_command("http://x.test", settings={"ARABTODAY_FSYNC_EVERY": "7"})


def test_outputs_that_are_not_option_pairs_are_refused() -> None:
    with pytest.raises(ValueError, match="pairs"):
        crawl_settings(outputs=["-x", "out.jsonl"])
    with pytest.raises(ValueError, match="pairs"):
        crawl_command("http://x.test", outputs=["-o"])
