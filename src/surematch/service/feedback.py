"""Reviewer feedback appended to `feedback.jsonl` beside the index, one labelled query a line.

Each line: {"text", "expected_id", "rejected_id", "accepted", "time"}, and "reviewer" (the
name of the API key used) when the server was given named keys. An accepted match stores
its id in `expected_id`; a rejected one stores it in `rejected_id` and leaves `expected_id`
empty. `surematch calibrate --queries` reads an empty `expected_id` as "nothing should match",
which a rejection does not say, so calibrate on the accepted lines only, e.g.
`jq -c 'select(.accepted)' feedback.jsonl > labelled.jsonl`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


class FeedbackLog:
    """Appends one JSON line per decision under a lock, each written with one os.write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, query: str, ref_id: str, accepted: bool, reviewer: str | None = None,
               ) -> dict[str, Any]:
        row: dict[str, Any] = {"text": query, "expected_id": ref_id if accepted else "",
                               "rejected_id": "" if accepted else ref_id, "accepted": accepted,
                               "time": time.time()}
        if reviewer:
            row["reviewer"] = reviewer
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return row

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(x) for x in self.path.read_text().splitlines() if x.strip()]
