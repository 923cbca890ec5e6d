"""Text keys: a title without case, punctuation and plural s, to tell near-identical titles."""

from __future__ import annotations

import re
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=2**16)  # reference texts recur in every match
def text_key(text: str) -> str:
    """"Audio-visual technicians" and "audio visual technician" give the same key."""
    words = _NON_WORD.sub(" ", text.casefold()).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def query_key(text: str) -> str:
    """A query without case and runs of spacing: "Registered  NURSE " -> "registered nurse".

    Queries with one key are matched once (a file's repeated rows, the service's recent
    results, a query equal to a stored text). Case and spacing change neither the tokens of
    an uncased encoder (the bundled MiniLM lowercases) nor the lexical evidence, which reads
    text casefolded with spacing collapsed. Punctuation is kept: it changes the tokens and
    the character overlap ("C++ developer" is not "C developer")."""
    return " ".join(text.casefold().split())
