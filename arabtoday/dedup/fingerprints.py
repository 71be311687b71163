"""Fingerprints of article text, for finding republished copies.

Exact copies share ``content_hash`` (the normalised body). Near copies (a
sentence changed, a new headline) are found with MinHash over word 5-grams and
LSH banding, from datasketch: two bodies whose estimated Jaccard similarity is
at least ``ARABTODAY_NEAR_DUP_THRESHOLD`` are the same article. Five-word
shingles keep two different wire stories on one topic apart (they share
phrases, rarely five words in a row): on the snapshot the most similar
distinct stories score 0.07, a copy with one sentence changed scores ~0.8.

A fingerprint is what the state stores: 4 bytes per permutation of signature
and one 8-byte key per LSH band, so lookups are index probes, not scans.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import mmh3

from arabtoday.cleaning.text import fold_for_match, words

if TYPE_CHECKING:
    import numpy as np
    from datasketch import MinHash

SHINGLE_WORDS = 5
DEFAULT_PERMUTATIONS = 64
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Fingerprint:
    lang: str
    content_hash: str
    signature: bytes  # num_perm little-endian uint32
    bands: tuple[int, ...]  # signed 64-bit LSH band keys (edition included)


FNV_PRIME = 0x100000001B3


def shingle_hashes(text: str, size: int = SHINGLE_WORDS) -> list[int]:
    """32-bit hashes of the word ``size``-grams of a text (normalised for matching).

    Each word is hashed once (MurmurHash3, stable across runs) and each window of
    ``size`` word hashes is combined in numpy: the same sets as hashing the
    joined n-gram strings, without building them."""
    tokens = words(fold_for_match(text))
    if not tokens:
        return [0]
    import numpy as np  # numpy (and datasketch, scipy) are imported by the commands that fingerprint, not at start-up

    wh = np.fromiter((mmh3.hash(t, signed=False) for t in tokens), dtype=np.uint64, count=len(tokens))
    windows = max(1, len(tokens) - size + 1)
    h = wh[:windows].copy()
    for k in range(1, min(size, len(tokens))):
        h = (h * np.uint64(FNV_PRIME)) ^ wh[k:k + windows]
    return ((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).tolist()


def _identity(value: int) -> int:
    return value


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    import numpy as np

    sa, sb = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(sa == sb)) / len(sa) if len(sa) == len(sb) and len(sa) else 0.0


class Fingerprinter:
    """MinHash + LSH parameters, fixed for the life of a state directory."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_PERMUTATIONS) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        from datasketch import MinHashLSH  # datasketch pulls in scipy: paid by the commands that fingerprint

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)  # for datasketch's choice of bands/rows
        self.bands, self.rows = lsh.b, lsh.r

    @cached_property
    def _template(self) -> MinHash:
        """Generating permutations is the costly part of a MinHash: do it once."""
        from datasketch import MinHash

        return MinHash(num_perm=self.num_perm, seed=1, hashfunc=_identity)

    def signature(self, text: str) -> np.ndarray:
        import numpy as np
        from datasketch import MinHash

        template = self._template
        mh = MinHash(num_perm=self.num_perm, seed=1, permutations=template.permutations, scheme=template.scheme,
                     hashfunc=_identity)  # the shingles are hashed already
        mh.update_batch(shingle_hashes(text))
        return np.asarray(mh.hashvalues, dtype="<u4")

    def fingerprint(self, lang: str, body: str, content_hash: str) -> Fingerprint:
        sig = self.signature(body)
        keys = []
        for band in range(self.bands):
            chunk = sig[band * self.rows:(band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(f"{lang}:{band}:".encode() + chunk, digest_size=8).digest()
            keys.append(int.from_bytes(digest, "little", signed=True))
        return Fingerprint(lang, content_hash, sig.tobytes(), tuple(keys))
