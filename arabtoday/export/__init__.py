"""Records out: the feed exporters of every format (JSON Lines first), the dataset export, merge, validation.

``exporters`` (the item exporters Scrapy's feed exports use: JSON Lines, JSON,
CSV, XML, each durable and announcing what is on disk to the state),
``feeds`` (Scrapy's feed-export extension, in its place in ``EXTENSIONS``, made to
fail once and to report the lines no output received), ``validation`` (lines
against the JSON Schema, fast), ``resolve`` (the output files, a log, read back
as history: one row per story or per revision), ``dataset`` (``arabtoday
export``: Parquet and a Hugging Face ``datasets`` folder with its card),
``merge`` (``arabtoday merge``: the same rows as one JSON Lines file).

May import: run, site, and the declared-once modules.
"""
