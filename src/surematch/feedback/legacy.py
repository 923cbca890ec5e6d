"""Import the service's older feedback.jsonl (one accepted / rejected match a line) into a store."""

from __future__ import annotations

import json
from pathlib import Path

from surematch.errors import InputError
from surematch.feedback.store import FeedbackStore


def import_feedback_log(store: FeedbackStore, path: str | Path) -> int:
    """Add every line of an older service feedback.jsonl ({"text", "expected_id", "rejected_id",
    "accepted", "time"}) as an accept or reject review
    (model and calibration identity unknown: ""); returns how many. A bad line raises
    InputError naming its file, line and field, after the lines before it were added."""
    path, added = Path(path), 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            accepted = bool(row["accepted"])
            ref_id = row["expected_id"] if accepted else row["rejected_id"]
            store.add(row["text"], "accept" if accepted else "reject", shown_id=ref_id,
                      at=row.get("time"))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a feedback line: {exc}", file=path, line=number) from None
        except InputError as exc:
            raise InputError(exc.message, file=path, line=number, field=exc.field) from None
        added += 1
    return added
