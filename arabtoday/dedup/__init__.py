"""Republished copies: fingerprints of article text, and the original-before-copy ordering.

``fingerprints`` (exact hash and MinHash/LSH near-duplicate keys, datasketch),
``ordering`` (the extension whose bounded hold lets a lower id in flight arrive
first). The decision itself is ``arabtoday.pipelines.ContentDedupPipeline``,
against the index the state keeps.

May import: cleaning, and the declared-once modules.
"""
