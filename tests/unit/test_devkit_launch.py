"""``devkit.launch``: the in-process crawl's settings and feeds are the ones ``scrapy crawl`` makes of
the same options."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings
from scrapy.utils.conf import feed_process_params_from_cli

from devkit.launch import NO_POLITENESS, crawl_command, crawl_settings


def project_settings() -> Settings:
    values = Settings()
    values.setmodule("arabtoday.settings", priority="project")
    return values


@pytest.mark.parametrize("options", [["-O", "out.jsonl"], ["-o", "a.csv", "-o", "b.json"], ["-o", "-:jsonl"]])
def test_in_process_feeds_are_the_ones_scrapy_makes_of_the_same_options(options: list[str]) -> None:
    appended = [uri for flag, uri in zip(options[::2], options[1::2], strict=True) if flag == "-o"]
    replaced = [uri for flag, uri in zip(options[::2], options[1::2], strict=True) if flag == "-O"]
    want = feed_process_params_from_cli(project_settings(), appended, overwrite_output=replaced)
    assert crawl_settings(outputs=options).getdict("FEEDS") == want
    assert crawl_command("http://x.test", outputs=options)[-len(options):] == options


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
