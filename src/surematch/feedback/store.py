"""Reviewer decisions in a durable SQLite store, exported as labelled queries."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from surematch.data.formats import file_format
from surematch.data.samples import LabelledQueries
from surematch.errors import DiskFullError, InputError, ModelFormatError
from surematch.index.stores.files import check_free_space
from surematch.limits import LIMITS, long_id

Decision = Literal["accept", "reject", "correct"]
DECISIONS: tuple[str, ...] = ("accept", "reject", "correct")
BANDS: tuple[str, ...] = ("accept", "review", "reject")
FILENAME = "feedback.sqlite3"
SCHEMA_VERSION = 2  # 2: the undone table (reviews undone by id, `FeedbackStore.undo`)
KnownIds = Callable[[str], bool] | Container[str]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    query TEXT NOT NULL,
    candidates TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'correct')),
    shown_id TEXT,
    corrected_id TEXT,
    reviewer TEXT,
    model_id TEXT NOT NULL,
    calibration_id TEXT NOT NULL,
    audit INTEGER NOT NULL CHECK (audit IN (0, 1))
)
"""
_UNDONE = """
CREATE TABLE IF NOT EXISTS undone (
    review_id INTEGER PRIMARY KEY REFERENCES reviews (id),
    time REAL NOT NULL
)
"""
_COLUMNS = ("id", "time", "query", "candidates", "decision", "shown_id", "corrected_id",
            "reviewer", "model_id", "calibration_id", "audit")


@dataclass(frozen=True)
class Review:
    """One stored decision on a query's shown top match (`shown_id`) or a correction to another."""

    id: int
    time: float
    query: str
    candidates: list[dict[str, Any]]
    decision: Decision
    shown_id: str | None
    corrected_id: str | None
    reviewer: str | None
    model_id: str
    calibration_id: str
    audit: bool

    @property
    def expected_id(self) -> str | None:
        """The reference that should match: the shown one if accepted, the corrected one if
        corrected, None after a plain rejection (the right one is unknown)."""
        return {"accept": self.shown_id, "correct": self.corrected_id}.get(self.decision)

    @property
    def rejected_id(self) -> str | None:
        """A reference known not to match: the shown top match when rejected or corrected."""
        return None if self.decision == "accept" else self.shown_id

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        return {name: getattr(self, name) for name in _COLUMNS}


@dataclass(frozen=True)
class LabelledFeedback:
    """Labelled queries from reviews: expected_ids None are rejections with a rejected id."""

    texts: list[str]
    expected_ids: list[str | None]
    rejected_ids: list[str | None]

    def __len__(self) -> int:
        return len(self.texts)

    def labelled(self) -> LabelledQueries:
        """The rows with an expected id (accepted or corrected), ready for calibration.

        Plain rejections are left out: as labelled queries an empty expected id means "no
        reference should match", which a rejection of one candidate does not say.
        """
        keep = [i for i, e in enumerate(self.expected_ids) if e is not None]
        return LabelledQueries([self.texts[i] for i in keep],
                               [self.expected_ids[i] for i in keep])


def _text(value: object, field: str, limit: int, what: str = "string") -> str:
    if not isinstance(value, str):
        raise InputError(f"must be a {what}, got {type(value).__name__}", field=field)
    if not value.strip():
        raise InputError("must not be empty", field=field)
    if len(value) > limit:
        raise InputError(f"{len(value)} characters; at most {limit}", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("holds a lone surrogate (not valid Unicode)", field=field) from None
    return value


def _id(value: object, field: str) -> str:
    """An id within LIMITS.id_chars, refused with the message every path gives."""
    if isinstance(value, str) and (too_long := long_id(value)) is not None:
        raise InputError(too_long, field=field)
    return _text(value, field, LIMITS.id_chars)


def _candidate(c: object, i: int) -> dict[str, Any]:
    field = f"candidates[{i}]"
    if not isinstance(c, Mapping):
        raise InputError("must be an object with id, text, probability, band", field=field)
    unknown = set(c) - {"id", "text", "probability", "band"}
    if unknown:
        raise InputError(f"unknown keys {sorted(unknown)}", field=field)
    out: dict[str, Any] = {"id": _id(c.get("id"), f"{field}.id")}
    text = c.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError("must be a string or null", field=f"{field}.text")
    out["text"] = text
    p = c.get("probability")
    if p is not None:
        if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p) \
                or not 0.0 <= p <= 1.0:
            raise InputError(f"must be a number in [0, 1] or null, got {p!r}",
                             field=f"{field}.probability")
        p = float(p)
    out["probability"] = p
    band = c.get("band")
    if band is not None and band not in BANDS:
        raise InputError(f"must be one of {list(BANDS)} or null, got {band!r}",
                         field=f"{field}.band")
    out["band"] = band
    return out


def _is_known(known: KnownIds, ref_id: str) -> bool:
    return bool(known(ref_id)) if callable(known) else ref_id in known


class FeedbackStore:
    """Reviews in `folder/feedback.sqlite3` (WAL, synchronous=FULL): an acknowledged add
    survives kill -9 and power loss. Safe to share between threads (one connection, a lock).

    `known_ids` (a set of reference ids, or a callable id -> bool) refuses reviews that name a
    reference not in it; `add(known_ids=...)` overrides it per call.
    """

    def __init__(self, folder: str | Path, known_ids: KnownIds | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILENAME
        self.known_ids = known_ids
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                     timeout=30.0)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._conn.close()
                raise ModelFormatError(f"{self.path}: feedback schema version {version} is newer "
                                       f"than this surematch reads ({SCHEMA_VERSION})")
            self._conn.execute(_SCHEMA)
            self._conn.execute(_UNDONE)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def add(
        self,
        query: str,
        decision: str,
        *,
        shown_id: str | None = None,
        corrected_id: str | None = None,
        candidates: Sequence[Mapping[str, Any]] = (),
        reviewer: str | None = None,
        model_id: str = "",
        calibration_id: str = "",
        audit: bool = False,
        at: float | None = None,
        known_ids: KnownIds | None = None,
    ) -> Review:
        """Validate, then store one decision durably; returns it with its id.

        decision "accept": `shown_id` (the top match shown) is right; "reject": it is wrong;
        "correct": `corrected_id` is the right reference (`shown_id`, if given, is wrong).
        Bad input raises InputError naming the field, and nothing is stored.
        """
        query = _text(query, "query", LIMITS.text_chars)
        if decision not in DECISIONS:
            raise InputError(f"must be one of {list(DECISIONS)}, got {decision!r}",
                             field="decision")
        if shown_id is not None:
            shown_id = _id(shown_id, "shown_id")
        if corrected_id is not None:
            corrected_id = _id(corrected_id, "corrected_id")
        if decision in ("accept", "reject") and shown_id is None:
            raise InputError(f'decision "{decision}" needs the shown top match\'s id',
                             field="shown_id")
        if decision in ("accept", "reject") and corrected_id is not None:
            raise InputError(f'decision "{decision}" takes no corrected id; use "correct"',
                             field="corrected_id")
        if decision == "correct":
            if corrected_id is None:
                raise InputError('decision "correct" needs the right reference\'s id',
                                 field="corrected_id")
            if corrected_id == shown_id:
                raise InputError('equals the shown id; use decision "accept"',
                                 field="corrected_id")
        if isinstance(candidates, str | bytes) or not isinstance(candidates, Sequence):
            raise InputError("must be a list of candidates", field="candidates")
        shown = [_candidate(c, i) for i, c in enumerate(candidates)]
        if reviewer is not None:
            reviewer = _id(reviewer, "reviewer")
        for name, value in (("model_id", model_id), ("calibration_id", calibration_id)):
            if not isinstance(value, str) or len(value) > 1_000:
                raise InputError("must be a string of at most 1000 characters", field=name)
        if not isinstance(audit, bool):
            raise InputError("must be true or false", field="audit")
        stamp = time.time() if at is None else at
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) \
                or not math.isfinite(stamp):
            raise InputError("must be a finite number (seconds since the epoch)", field="at")
        known = self.known_ids if known_ids is None else known_ids
        if known is not None:
            for name, ref in (("shown_id", shown_id), ("corrected_id", corrected_id)):
                if ref is not None and not _is_known(known, ref):
                    raise InputError(f"no reference with id {ref!r}", field=name)
        row = (float(stamp), query, json.dumps(shown, ensure_ascii=False), decision, shown_id,
               corrected_id, reviewer, model_id, calibration_id, int(audit))
        check_free_space(self.folder, "storing a review")
        with self._lock:
            try:
                cur = self._conn.execute(
                    f"INSERT INTO reviews ({', '.join(_COLUMNS[1:])}) VALUES "
                    f"({', '.join('?' * len(row))})", row)
            except sqlite3.OperationalError as exc:
                if "full" in str(exc):
                    raise DiskFullError(f"storing a review: {exc}") from None
                raise
            rowid = int(cur.lastrowid or 0)
        return Review(rowid, float(stamp), query, shown, decision, shown_id,  # type: ignore[arg-type]
                      corrected_id, reviewer, model_id, calibration_id, audit)

    def reviews(self, *, since_id: int = 0, audit: bool | None = None,
                calibration_id: str | None = None, undone: bool = False) -> list[Review]:
        """Stored reviews in the order they were added; optionally only those after `since_id`,
        only audit samples (audit=True) or none of them (False), only one calibration's.
        Reviews undone (`undo`) are left out unless `undone` is True."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE id > ?"
        args: list[int | str] = [since_id]
        if audit is not None:
            sql += " AND audit = ?"
            args.append(int(audit))
        if calibration_id is not None:
            sql += " AND calibration_id = ?"
            args.append(calibration_id)
        if not undone:
            sql += " AND id NOT IN (SELECT review_id FROM undone)"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [_review(r) for r in rows]

    def get(self, review_id: int) -> Review | None:
        """The review with this id (undone or not); None when there is none."""
        with self._lock:
            row = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE id = ?",
                                     (review_id,)).fetchone()
        return None if row is None else _review(row)

    def undo(self, review_id: int, at: float | None = None) -> Review | None:
        """Undo a review by id, durably: it stays stored but no longer counts (`reviews`
        leaves it out), and the text it taught goes (`feedback.learn.undo`). Returns it (also
        when undone already); None when no review has this id."""
        if isinstance(review_id, bool) or not isinstance(review_id, int):
            raise InputError(f"must be a review id (an integer), got {review_id!r}", field="id")
        review = self.get(review_id)
        if review is not None:
            with self._lock:
                self._conn.execute("INSERT OR IGNORE INTO undone (review_id, time) VALUES (?, ?)",
                                   (review_id, time.time() if at is None else float(at)))
        return review

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])

    def labelled_queries(self, *, latest_only: bool = True) -> LabelledFeedback:
        """Every review as a labelled query (see `labelled_queries`)."""
        return labelled_queries(self.reviews(), latest_only=latest_only)

    def export(self, path: str | Path, *, latest_only: bool = True) -> int:
        """Write the labelled queries to .jsonl or .csv (columns text, expected_id,
        rejected_id; empty when absent); returns the number of rows."""
        return export_labelled(self.labelled_queries(latest_only=latest_only), path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _review(r: Sequence[Any]) -> Review:
    return Review(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8], r[9],
                  bool(r[10]))


def latest_reviews(reviews: Iterable[Review]) -> list[Review]:
    """The reviews with a query reviewed more than once kept at its latest decision (a
    reviewer may change their mind), in their order."""
    rows = list(reviews)
    last = {r.query: r for r in rows}
    return [r for r in rows if last[r.query] is r]


def labelled_queries(reviews: Iterable[Review], *, latest_only: bool = True) -> LabelledFeedback:
    """accept -> (query, shown id); correct -> (query, corrected id, rejected: the shown id);
    reject -> (query, None, rejected: the shown id). With `latest_only` a query reviewed more
    than once keeps its latest decision (`latest_reviews`)."""
    rows = latest_reviews(reviews) if latest_only else list(reviews)
    return LabelledFeedback([r.query for r in rows], [r.expected_id for r in rows],
                            [r.rejected_id for r in rows])


def labelled_rows(labelled: LabelledFeedback) -> list[dict[str, str]]:
    """The export's rows: {"text", "expected_id", "rejected_id"}, empty strings when absent."""
    return [{"text": t, "expected_id": e or "", "rejected_id": r or ""}
            for t, e, r in zip(labelled.texts, labelled.expected_ids, labelled.rejected_ids,
                               strict=True)]


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula: one that starts with
    = + - @, a tab or a carriage return gets a leading ' (JSONL keeps the exact text)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_labelled(labelled: LabelledFeedback, out: IO[str], fmt: str) -> int:
    """Write labelled feedback to a text stream as "jsonl" or "csv"; returns the rows."""
    rows = labelled_rows(labelled)
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=["text", "expected_id", "rejected_id"])
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    else:
        raise InputError(f"must be jsonl or csv, got {fmt!r}", field="format")
    return len(rows)


def export_labelled(labelled: LabelledFeedback, path: str | Path) -> int:
    """Write labelled feedback as JSONL or CSV, chosen by the extension; returns the rows."""
    path = Path(path)
    fmt = file_format(path, "export", ("jsonl", "csv"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        return write_labelled(labelled, f, fmt)
