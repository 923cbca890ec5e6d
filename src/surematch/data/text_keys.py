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
