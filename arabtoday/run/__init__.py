"""The run's account of itself: every article page's outcome, failures, block watch, report, progress.

``ledger`` (the extension that opens an account per article request and closes
it with one bucket), ``failures`` (why a request failed, as a countable name),
``blocking`` (block pages, and the extension that stops a blocked run),
``stopping`` (stopping a run early, one way for every cause: ``max_articles``,
a block, a lost output or Redis, a signal), ``report`` (the report as data and
text, pure), ``reporter`` (the extension that writes it and computes the exit
status, with ``arabtoday.exitstatus``, that ``commands/crawl.py`` exits with),
``report_html`` (the report as one self-contained HTML page), ``progress`` (the
periodic progress line), ``logformatter`` (Scrapy's log lines for dropped items,
at the level their bucket deserves).

May import: site, and the declared-once modules.
"""
