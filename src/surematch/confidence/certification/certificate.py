"""What a calibration's guarantee covers, recorded beside it and stated in one sentence.

The record (`certificate`) holds the targets and confidence, the per-match floor, how many
calibration queries (or pairs) there were and where they came from (`file_source`: a file's
name and sha256; `reviews_source`: the service's reviews, audit ones counted, with their
dates; `named_source`: built-in data, in words), the candidate depth a match's evidence
reads, the runtime whose embeddings were calibrated, and the date. `guarantee_sentence`
turns a calibration document's entry into the sentence that `calibrate`,
`GET /v1/calibration` and the page show, e.g.

    auto-accept certified at precision ≥ 0.95 with 95 % confidence, each accepted match
    p ≥ 0.5, for queries like the 3,202 of calib.csv (sha256 1a2b3c4d5e6f…), 2026-12-03,
    onnx-int8, candidate depth 2

A calibration saved before the record existed still gets a sentence, from its bands, with
"source not recorded".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from surematch.folder import sha256_file


def file_source(path: str | Path) -> dict[str, Any]:
    """Where calibration data came from: a file's name and sha256 (a folder: its name)."""
    path = Path(path)
    return {"kind": "file", "file": path.name,
            "sha256": sha256_file(path) if path.is_file() else None}


def named_source(name: str) -> dict[str, Any]:
    """Where calibration data came from, in words (built-in data: "ESCO's calibration
    titles"), for sources that are no file."""
    return {"kind": "named", "name": name}


def reviews_source(reviews: int, audit_reviews: int, times: list[float],
                   labelled: str | Path | None = None) -> dict[str, Any]:
    """Where a calibration on the service's reviews came from: how many reviews (of them
    audit ones), the dates of the first and last (`times`: unix seconds), and the labelled
    file that joined them, if any."""
    def day(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).date().isoformat()

    return {"kind": "reviews", "reviews": reviews, "audit_reviews": audit_reviews,
            "from": day(min(times)) if times else None, "to": day(max(times)) if times else None,
            "labelled_file": None if labelled is None else file_source(labelled)}


def certificate(bands: Any, *, n: int, source: dict[str, Any] | None, runtime: str | None,
                candidate_depth: int | None = None, unit: str = "queries",
                date: str | None = None) -> dict[str, Any]:
    """The record of what a calibration with these `bands` (TriageBands) covers: `n`
    calibration `unit` ("queries" or "pairs") from `source` (None: not recorded)."""
    return {"precision_target": bands.precision_target, "miss_target": bands.miss_target,
            "confidence": bands.confidence, "min_probability": bands.min_probability,
            "n": int(n), "unit": unit, "n_certify": bands.n_certify,
            "source": source or {"kind": "unrecorded"}, "candidate_depth": candidate_depth,
            "runtime": runtime, "date": date or dt.datetime.now(dt.UTC).date().isoformat()}


def _sha(sha: Any) -> str:
    return f" (sha256 {sha[:12]}…)" if sha else ""


def _covered(record: dict[str, Any]) -> str:
    """"the 3,202 of calib.csv (sha256 …)", "the 412 reviews (…)", or unrecorded."""
    n, unit, src = record.get("n"), record.get("unit", "queries"), record.get("source") or {}
    count = f"{n:,}" if isinstance(n, int) else "?"
    if src.get("kind") == "file":
        return f"the {count} of {src.get('file')}{_sha(src.get('sha256'))}"
    if src.get("kind") == "named":
        return f"the {count} of {src.get('name')}"
    if src.get("kind") == "reviews":
        dates = f", {src['from']} to {src['to']}" if src.get("from") else ""
        text = (f"the {count} from {src.get('reviews', 0):,} reviews ("
                f"{src.get('audit_reviews', 0):,} audit{dates})")
        labelled = src.get("labelled_file")
        return text + (f" and {labelled['file']}{_sha(labelled.get('sha256'))}" if labelled
                       else "")
    return f"the {count} calibration {unit} (source not recorded)"


def guarantee_sentence(entry: dict[str, Any] | None, runtime: str | None = None) -> str:
    """The one sentence stating what the calibration `entry` (a calibration document's
    "retrieval" or "verification" value) certifies and for what; `runtime`: the document's
    record of it, for entries saved before the certificate existed."""
    if not entry:
        return "not calibrated: no probabilities, no bands, nothing certified"
    bands = entry.get("bands") or {}
    record = entry.get("certificate") or {}
    if not record:  # saved before the record existed: what the bands say
        n = bands.get("n_certify") or sum(bands.get(f"n_{b}", 0)
                                          for b in ("accept", "review", "reject"))
        record = {"n": n, "source": None, "runtime": runtime, "date": None,
                  "min_probability": bands.get("min_probability"),
                  "unit": "pairs" if "distance" in entry else "queries"}
    target, conf = bands.get("precision_target"), bands.get("confidence")
    pct = f"{conf * 100:g} %" if isinstance(conf, float) else "?"
    floor = record.get("min_probability")
    what = [record.get("date") or "date not recorded", record.get("runtime") or runtime
            or "runtime not recorded"]
    if record.get("candidate_depth"):
        what.append(f"candidate depth {record['candidate_depth']}")
    covered = _covered(record)
    if bands.get("accept_at") is None:
        return (f"nothing is auto-accepted: precision ≥ {target:g} could not be certified "
                f"with {pct} confidence on {covered}, {', '.join(what)}")
    each = f", each accepted match p ≥ {floor:g}" if floor is not None else ""
    unit = record.get("unit", "queries")
    return (f"auto-accept certified at precision ≥ {target:g} with {pct} confidence{each}, "
            f"for {unit} like {covered}, {', '.join(what)}")


def guarantees(document: dict[str, Any]) -> dict[str, str]:
    """The sentence of each calibration in a calibration document ({} when it has none)."""
    runtimes = document.get("runtimes") or {}
    return {key: guarantee_sentence(document[key], runtimes.get(key, "torch"))
            for key in ("retrieval", "verification") if document.get(key)}
