"""What earlier runs did: the state behind incremental crawls, deduplication and crash recovery.

``store`` (the interface every backend implements, ``should_fetch``,
``is_real_edit``, ``open_store``), ``sqlite`` (one machine), ``redis`` (several
machines), ``recovery`` (records that reached an output but not the state),
``extension`` (``StateExtension``: the store's one owner, which opens, locks,
recovers and closes it; everything else gets the store from it), ``history``
(the ``History`` extension: which sitemaps list each article, what vanished from
them, the rechecks that find removals).

May import: dedup, cleaning, run, site, and the declared-once modules.
"""
