"""The run's account of itself: every article page's outcome, failures, block watch, report, progress.

``ledger`` (the extension that opens an account per article request and closes
it with one bucket), ``failures`` (why a request failed, as a countable name),
``blocking`` (block pages, and the extension that stops a blocked run),
``stopping`` (stopping a run early, one way for every cause), ``report``
(the report as data and text, pure), ``reporter`` (the extension that writes it
and settles the exit status), ``report_html``, ``progress``, ``logformatter``.

May import: site, and the declared-once modules.
"""
