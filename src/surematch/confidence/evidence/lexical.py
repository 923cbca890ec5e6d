"""Reference-aware evidence about each candidate beside its similarity: agreement of the
reference's texts, an exact known text, and character overlap with the matched text.

Each function takes what a ranking gives (strings and similarities) and returns [Q, k]
arrays, so the same evidence is computed for labelled queries (calibration, evaluation) and
for live matches (the index), and a calibrator reads it through `match_features`.

- `agreement`  the similarity of the reference's second-best text (0 for a reference with
  one text): several texts of a reference close to the query say more than one;
- `exact`      1 when the query equals one of the reference's own texts (title, synonym,
  description) up to case, punctuation and plural s (`surematch.data.text_keys.text_key`),
  else 0;
- `reviewed`   1 when it equals instead a text a review taught the reference (kind
  "reviewed", `feedback.learn`): a reviewer's text is not the taxonomy's, so the calibration
  tells them apart and certifies each on its own evidence;
- `overlap`    Jaccard similarity of the character 3-grams of the query and the matched text:
  a lexical view beside the embedding, low for keyboard mash that happens to embed nearby;
- `head`       1 when the query's head word (its last word, `head_word`) is the head word of
  some text of the references (any kind but "description": `head_words`), else 0; the same
  for every candidate. A one-class signal on the query's form, read off the references
  alone: "carpet" or "green tea" ends on a word no job title ends on, though "carpet
  fitter" embeds close (measured: BENCHMARKS.md, no_match_signals).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from functools import lru_cache

import numpy as np

from surematch.data.text_keys import text_key

EVIDENCE = ("agreement", "exact", "overlap", "reviewed", "head")
REVIEWED = "reviewed"  # the kind of a text learned from a review
UNHEADED = "description"  # the kind of text whose last word is no head word


def head_word(text: str) -> str:
    """The last word of `text_key(text)` ("" for a text without words): the head of an
    English noun phrase ("Wood boring machine operators" -> "operator")."""
    return text_key(text).rpartition(" ")[2]


def head_words(texts: Iterable[tuple[str, str]]) -> set[str]:
    """The head words of (text, kind) pairs, descriptions left out."""
    return {w for t, kind in texts if kind != UNHEADED and (w := head_word(t))}


@lru_cache(maxsize=2**16)  # reference texts recur in every match
def char_ngrams(text: str, n: int = 3) -> frozenset[str]:
    """The character n-grams of " text " (casefolded, spaces collapsed)."""
    padded = f" {' '.join(text.casefold().split())} "
    return frozenset(padded[i: i + n] for i in range(max(1, len(padded) - n + 1)))


def overlap(a: str, b: str) -> float:
    """Jaccard similarity of the character 3-grams of a and b, in [0, 1]."""
    x, y = char_ngrams(a), char_ngrams(b)
    return len(x & y) / len(x | y) if x or y else 0.0


def lexical_evidence(queries: Sequence[str], matched: Sequence[Sequence[str]],
                     texts: Sequence[Sequence[Sequence[str]]],
                     kinds: Sequence[Sequence[Sequence[str]]] | None = None,
                     heads: Container[str] | None = None) -> dict[str, np.ndarray]:
    """`exact`, `reviewed`, `overlap` and `head` [Q, k] for queries [Q], the matched text of
    each candidate [Q][k], all texts of each candidate's reference [Q][k][n], their kinds
    [Q][k][n] (None: none is "reviewed") and the references' head words (`head_words`;
    None: unknown, and `head` is 1 throughout, evidence against no query)."""
    q, k = len(queries), max((len(row) for row in matched), default=0)
    exact, reviewed, lexical = np.zeros((q, k)), np.zeros((q, k)), np.zeros((q, k))
    head = np.ones((q, k))
    for i, query in enumerate(queries):
        key = text_key(query)
        if heads is not None and head_word(query) not in heads:
            head[i] = 0.0
        for j, (best, every) in enumerate(zip(matched[i], texts[i], strict=True)):
            of = kinds[i][j] if kinds is not None else [""] * len(every)
            for t, kind in zip(every, of, strict=True):
                if text_key(t) == key:
                    if kind == REVIEWED:
                        reviewed[i, j] = 1.0
                    else:
                        exact[i, j] = 1.0
            lexical[i, j] = overlap(query, best)
    return {"exact": exact, "overlap": lexical, "reviewed": reviewed, "head": head}


def agreement(text_similarities: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """[Q, k]: the second-best text similarity of each candidate's reference, from the
    similarities of all its texts [Q][k][n] (0 where the reference has one text)."""
    rows = [[float(np.partition(s, -2)[-2]) if len(s) > 1 else 0.0 for s in row]
            for row in text_similarities]
    k = max((len(r) for r in rows), default=0)
    out = np.zeros((len(rows), k))
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out
