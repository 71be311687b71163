"""Records out: the feed exporters of every format, the dataset export, merge, validation.

``exporters`` (every feed format durable, announcing what is on disk to the
state), ``validation`` (records against the JSON Schema, fast), ``dataset``
(Parquet and a Hugging Face ``datasets`` folder with its card), ``merge``.

May import: run, site, and the declared-once modules.
"""
