"""Versions a record or report carries: the code's and the record schema's.

``__version__`` is the package version (``pyproject.toml`` reads it from
here); ``SCHEMA_VERSION`` changes when a record field is added, removed or
changes type, so that a dataset built by several releases can tell them apart.
"""

__version__ = "0.3.0"
SCHEMA_VERSION = "2.1"  # 1.2: extractor_version; 2.0: lines of history (status, revision, copies, removals);
# 2.1: provenance (origin, captured_at, warc_file, warc_record_id)
