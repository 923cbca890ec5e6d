"""Reviews as data: labelled queries from a FeedbackStore, a calibration refitted on them with
honest bands, training groups from them, and the calibration id each review records.

A review becomes a labelled query: accept -> the shown id; correct -> the corrected id; a
rejection without correction says only that the top match is wrong, so it is kept as a wrong
top match only while the current model still ranks the rejected id first, else dropped.

Band certification: reviews the queue chose (nearest a band edge first) are not a random
sample, and certifying bands on them breaks the finite-sample guarantee (BENCHMARKS.md,
feedback_loop). Audit reviews (a seeded random sample of every query's top match, whatever its
band) and the rows of a labelled file are; when there are any, the bands are certified on them
only (the queue's reviews fit the calibrator), else the result carries a warning that says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from surematch.confidence.certification.targets import DEFAULT_TARGETS, Targets
from surematch.confidence.checks import MIN_SAMPLES
from surematch.confidence.evidence.lexical import REVIEWED
from surematch.data.samples import GroupedTexts, LabelledQueries, References
from surematch.data.text_keys import text_key
from surematch.errors import InputError, SurematchError
from surematch.feedback.learn import Learned
from surematch.feedback.store import FILENAME, FeedbackStore, Review, latest_reviews
from surematch.folder import DEFAULT_RUNTIME

logger = logging.getLogger(__name__)

QUEUE_BAND_WARNING = (
    "the bands were certified on reviews the review queue chose (nearest a band edge "
    "first), not on a random sample: their guarantee is not formally kept (BENCHMARKS.md, "
    "feedback_loop); audit reviews (surematch serve --audit-fraction) or a labelled file "
    "(calibrate --queries, serve --labelled-queries) give the bands a random sample")


def calibration_id(model_dir: str | Path) -> str:
    """A short hash of the model folder's calibration document ("" when uncalibrated)."""
    from surematch.confidence.file.store import calibration_document

    doc = calibration_document(model_dir)
    if not doc:
        return ""
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def open_feedback(folder: str | Path) -> FeedbackStore:
    """The store in `folder`; InputError when the folder holds none (nothing is created)."""
    folder = Path(folder)
    if not (folder / FILENAME).is_file():
        raise InputError(f"{folder} holds no {FILENAME}: give the folder the service stores "
                         "reviews in (the index folder; for a Qdrant server, the model folder)",
                         field="--feedback")
    return FeedbackStore(folder)


def references_from_index(index: Any) -> References:
    """Every reference stored in an opened ReferenceIndex (id, payload, every text with its
    kind, the texts reviews taught included)."""
    return _references(_stored(index))


def _stored(index: Any) -> list[Any]:
    ids = list(dict.fromkeys(index.store.ids()))
    return [r for start in range(0, len(ids), 256)
            for r in index.get(ids[start:start + 256]) if r is not None]


def _references(found: Sequence[Any]) -> References:
    return References([r.id for r in found], [r.texts[0][0] for r in found],
                      [dict(r.payload) for r in found], [list(r.texts[1:]) for r in found],
                      [r.texts[0][1] for r in found])


def learned_texts(index: Any) -> dict[str, int]:
    """{text_key of a reviewed text: the review that taught it} over an opened index."""
    return {text_key(t): int(p["review"]) for r in _stored(index)
            for t, p in r.provenance.items() if isinstance(p.get("review"), int)}


def without_reviewed(references: References) -> References:
    """The references with the texts reviews taught left out (the taxonomy's own texts)."""
    return References(references.ids, references.texts, references.payloads,
                      [[(t, k) for t, k in references.texts_of(i)[1:] if k != REVIEWED]
                       for i in range(len(references))], references.text_kinds)


def stored_references(folder: Path) -> References:
    """The references of the index in `folder` with all their texts, read without the model
    that embeds them."""
    from surematch.index.stores import IndexLocation, open_store
    from surematch.index.text_rows import split_payload

    location = IndexLocation.of(folder)
    try:
        location.require()
        store = open_store(location, None)
    except InputError:
        raise
    except SurematchError as exc:
        raise InputError(f"{folder} is not an index folder ({exc}); give --references",
                         field="--references") from None
    try:
        points = list(store.scan())
    finally:
        store.close()
    split = [split_payload(p.payload) for p in points]
    return References([p.id for p in points], [texts[0][0] for _, texts in split],
                      [payload for payload, _ in split],
                      [texts[1:] for _, texts in split],
                      [texts[0][1] for _, texts in split])


def references_for(model: Any, folder: Path | None, references: Path | None,
                   columns: dict[str, str] | None = None,
                   ) -> tuple[References, dict[str, int], np.ndarray | None]:
    """References from a file (its columns remapped by `columns`), else from the index in
    `folder` (opened read-only for it); the texts reviews taught them (`learned_texts`; none
    from a file); and, from an index, its stored rows in `References.flat()` order
    (`stored_rows`), so they are not embedded again (None from a file, or from an index that
    does not record its rows' runtime)."""
    if references is not None:
        from surematch.data import read_references

        return read_references(references, columns=columns), {}, None
    if folder is None:
        raise InputError("give --references (the references the reviews name)")
    from surematch.index.reference_index import ReferenceIndex

    try:
        with ReferenceIndex.open(folder, model) as index:
            refs, rows = stored_rows(index)
            return refs, learned_texts(index), rows
    except InputError:
        raise
    except SurematchError as exc:
        raise InputError(f"{folder} is not an index this model can read ({exc}); give "
                         "--references", field="--references") from None


def stored_rows(index: Any, strict: bool = True) -> tuple[References, np.ndarray | None]:
    """Every stored reference (as `references_from_index`) and its rows [texts, D] in
    `References.flat()` order, read from the index instead of embedded again. The index's
    model is the one opening it (`ReferenceIndex.open` refuses another model id); its rows
    are used when the index records that this model's runtime embedded all of them, and
    None is returned (embed them) when it cannot tell (an index written before runtimes
    were recorded). Where another runtime embedded them: InputError if `strict` (a
    calibration is fitted for one runtime), else None."""
    recorded = index.runtimes
    if "unknown" in recorded or not recorded or (recorded != [index.model.runtime]
                                                 and not strict):
        logger.info("index %s records no rows of runtime %s only: the references are "
                    "embedded again", index.target, index.model.runtime)
        return references_from_index(index), None
    if recorded != [index.model.runtime]:
        raise InputError(f"index {index.target} holds rows embedded with runtime "
                         f"{' and '.join(recorded)}, not {index.model.runtime}: calibrate "
                         f"with --runtime {recorded[0]}, or give --references to embed them "
                         f"with {index.model.runtime}", field="--runtime")
    ids = list(dict.fromkeys(index.store.ids()))
    found = [r for start in range(0, len(ids), 256)
             for r in index.get_rows(ids[start:start + 256]) if r is not None]
    return _references([r for r, _ in found]), np.vstack([v for _, v in found])


@dataclass(frozen=True)
class FeedbackRows:
    """Reviews as rows: the query, the expected id (None: the top match was rejected), the
    rejected id, and where the row came from: "queue" (a review), "audit" (an audit-sample
    review) or "file" (a labelled file); and the review's id (None for a file row)."""

    texts: list[str]
    expected_ids: list[str | None]
    rejected_ids: list[str | None]
    sources: list[str]
    review_ids: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def review_rows(reviews: Iterable[Review], latest_only: bool = True) -> FeedbackRows:
    """One row a review (with `latest_only`, a query's latest decision only)."""
    rows = latest_reviews(reviews) if latest_only else list(reviews)
    return FeedbackRows([r.query for r in rows], [r.expected_id for r in rows],
                        [r.rejected_id for r in rows],
                        ["audit" if r.audit else "queue" for r in rows], [r.id for r in rows])


@dataclass(frozen=True)
class FeedbackFit:
    """The refitted calibration, the warnings to show, and what went into it."""

    calibration: Any  # MatchCalibration
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


def fit_feedback_calibration(model: Any, references: References, reviews: Iterable[Review],
                             queries: LabelledQueries | None = None, *,
                             targets: Targets = DEFAULT_TARGETS,
                             criterion: str = "accuracy", seed: int = 0,
                             learned: Mapping[str, int] | None = None,
                             reference_vectors: np.ndarray | None = None,
                             ) -> FeedbackFit:
    """Fit a retrieval calibration on the reviews (and the labelled `queries`, if any), ranked
    against `references` by `model`. InputError when there are too few to fit one.

    `learned` ({text_key: the review that taught it}, `learned_texts`): a review is ranked
    against the references as its reviewer saw them, without the text it (or a later review)
    taught, so the calibration never grades a review by its own answer; to keep it simple,
    such a review sees none of the reviewed texts. `reference_vectors`: the references'
    rows in `References.flat()` order (`stored_rows`), else they are embedded."""
    from surematch.evaluation.ranked_queries import rank_queries

    rows = review_rows(reviews)
    texts, expected = list(rows.texts), list(rows.expected_ids)
    rejected, sources = list(rows.rejected_ids), list(rows.sources)
    if queries is not None:
        texts += queries.texts
        expected += queries.expected_ids
        rejected += [None] * len(queries)
        sources += ["file"] * len(queries)
    if not texts:
        raise InputError("no reviews and no labelled queries to calibrate on",
                         field="feedback")
    labelled = LabelledQueries(texts, expected)
    teaching = [i for i, rid in enumerate(rows.review_ids)
                if rid is not None and (taught := (learned or {}).get(text_key(texts[i])))
                is not None and rid <= taught]
    if teaching:
        ranked = rank_reviews(model, references, labelled, teaching, reference_vectors)
    else:
        ranked = rank_queries(model, references, labelled, k=10,
                              reference_vectors=reference_vectors)
    return fit_ranked_feedback(ranked, sources, rejected, targets=targets, criterion=criterion,
                               seed=seed)


def rank_reviews(model: Any, references: References, labelled: LabelledQueries,
                 teaching: list[int], reference_vectors: np.ndarray | None = None) -> Any:
    """rank_queries of the labelled rows, those in `teaching` (the reviews that taught a text,
    or came before the one that did) against the references without their reviewed texts;
    each reference text is embedded once (or its row given in `reference_vectors`)."""
    from surematch.evaluation.ranked_queries import RankedQueries, rank_queries

    _, flat, kinds = references.flat()
    vectors = np.asarray(model.embed(flat) if reference_vectors is None else reference_vectors)
    own = np.array([k != REVIEWED for k in kinds])
    alone = set(teaching)
    parts = []
    for refs, vecs, idx in ((references, vectors,
                             [i for i in range(len(labelled)) if i not in alone]),
                            (without_reviewed(references), vectors[own], teaching)):
        part = LabelledQueries([labelled.texts[i] for i in idx],
                               [labelled.expected_ids[i] for i in idx])
        parts.append((idx, rank_queries(model, refs, part, k=10, reference_vectors=vecs)
                      if idx else None))
    order = np.argsort(np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in parts]))
    done = [r for _, r in parts if r is not None]

    def cat(get: Any) -> Any:
        return np.concatenate([get(r) for r in done])[order]

    def lst(get: Any) -> list[Any]:
        flat_rows = [x for r in done for x in get(r)]
        return [flat_rows[j] for j in order]

    return RankedQueries(
        lst(lambda r: r.ids), cat(lambda r: r.similarity),
        None if done[0].confidence is None else cat(lambda r: r.confidence),
        cat(lambda r: r.correct), lst(lambda r: r.expected),
        {n: cat(lambda r, n=n: r.evidence[n]) for n in done[0].evidence},
        lst(lambda r: r.matched))


def refit_calibration(model: Any, model_dir: Path, references: References,
                      reviews: Iterable[Review], queries: LabelledQueries | None = None, *,
                      targets: Targets = DEFAULT_TARGETS, criterion: str = "accuracy",
                      seed: int = 0,
                      learned: Mapping[str, int] | None = None,
                      labelled_file: str | Path | None = None,
                      reference_vectors: np.ndarray | None = None) -> tuple[Path, FeedbackFit]:
    """The refit on reviews, as `calibrate --feedback` and the service's POST
    /v1/calibration/refit run it: `fit_feedback_calibration`, then saved in the model folder
    for the model's runtime, with where it came from (the reviews' count and dates, and
    `labelled_file`, the file `queries` were read from). Returns the calibration file and the
    fit; InputError (nothing saved) when there are too few reviews to fit one."""
    from surematch.confidence.certification.certificate import reviews_source
    from surematch.confidence.file.store import save_calibration

    reviews = list(reviews)
    fit = fit_feedback_calibration(model, references, reviews, queries, targets=targets,
                                   criterion=criterion, seed=seed, learned=learned,
                                   reference_vectors=reference_vectors)
    source = reviews_source(fit.counts["reviews"], fit.counts["audit_reviews"],
                            [r.time for r in reviews], labelled_file)
    path = save_calibration(model_dir, fit.calibration, model.identity(), model.runtime, source)
    return path, fit


def fit_ranked_feedback(ranked: Any, sources: Sequence[str],
                        rejected: Sequence[str | None] | None = None, *,
                        targets: Targets = DEFAULT_TARGETS, criterion: str = "accuracy",
                        seed: int = 0,
                        ) -> FeedbackFit:
    """`fit_feedback_calibration` on rows ranked already: `ranked` (RankedQueries), each row's
    source ("queue", "audit" or "file") and rejected id (None: none; default all None). The
    calibrator is fitted on every row, the bands certified on the random-sample rows (audit
    rows and half the file rows by group) when there are enough, else on every row with a
    warning."""
    from surematch.confidence.certification.split import fit_band_split
    from surematch.confidence.match_calibration import fit_match_calibration

    sources = list(sources)
    expected = list(ranked.expected)
    rejected = [None] * len(sources) if rejected is None else list(rejected)
    if not len(sources) == len(expected) == len(rejected):
        raise InputError(f"{len(sources)} sources and {len(rejected)} rejected ids for "
                         f"{len(expected)} ranked rows", field="sources")
    if ranked.similarity.shape[1] < 2:
        raise InputError("calibration needs at least 2 references", field="references")
    keep, dropped = [], 0
    for i, (e, r) in enumerate(zip(expected, rejected, strict=True)):
        if e is None and r is not None and sources[i] != "file" and ranked.ids[i][0] != r:
            dropped += 1  # the model no longer ranks the rejected reference first
            continue
        keep.append(i)
    idx = np.asarray(keep, dtype=np.int64)
    src = np.asarray(sources, dtype=object)[idx]
    groups = [ranked.expected[i] for i in keep]
    counts: dict[str, Any] = {
        "reviews": int(sum(s != "file" for s in sources)),
        "audit_reviews": int((src == "audit").sum()),
        "labelled_file": int((src == "file").sum()),
        "accept_or_correct": int(sum(e is not None for e, s in zip(expected, sources,
                                                                  strict=True) if s != "file")),
        "rejections_kept": int(sum(expected[i] is None and sources[i] != "file" for i in keep)),
        "rejections_dropped": dropped,
    }
    if dropped:
        logger.info("%d rejections left out: the model no longer ranks the rejected reference "
                    "first", dropped)
    def fit(split: tuple[np.ndarray, np.ndarray] | None) -> Any:
        return fit_match_calibration(
            ranked.similarity[idx], ranked.correct[idx],
            None if ranked.confidence is None else ranked.confidence[idx], groups,
            targets=targets, criterion=criterion,  # type: ignore[arg-type]
            seed=seed, split=split,
            evidence={name: values[idx] for name, values in ranked.evidence.items()})

    warnings: list[str] = []
    random_rows = np.isin(src, ("audit", "file"))
    band_source = "queue"
    cal = None
    if 0 < random_rows.sum() < 2 * MIN_SAMPLES:
        warnings.append(f"only {int(random_rows.sum())} random-sample rows (audit reviews, "
                        f"labelled file): too few to certify the bands alone (at least "
                        f"{2 * MIN_SAMPLES}); fitted on every row instead")
    elif random_rows.any():
        band = src == "audit"
        files = np.flatnonzero(src == "file")
        if len(files):
            _, file_band = fit_band_split(len(files), [groups[i] for i in files], 0.5, seed)
            band[files[file_band]] = True
        try:
            cal = fit((np.flatnonzero(~band), np.flatnonzero(band)))
            band_source = "audit and labelled file" if len(files) and (src == "audit").any() \
                else "audit" if (src == "audit").any() else "labelled file"
        except InputError as exc:
            warnings.append(f"the {int(band.sum())} random-sample rows (audit reviews, labelled "
                            f"file) could not certify the bands alone ({exc.message}); fitted "
                            "on every row instead")
    if cal is None:
        cal = fit(None)
        if (src == "queue").any():
            warnings.append(QUEUE_BAND_WARNING)
    counts["bands_certified_on"] = band_source if not warnings else "every row (queue included)"
    cal.report["feedback"] = {**counts, "warnings": warnings}
    return FeedbackFit(cal, warnings, counts)


@dataclass(frozen=True)
class FeedbackGroups:
    """Training groups from reviews (`feedback_groups`): `groups`, one per reference id
    ("dataset/<id>"); `negatives`, pairs of those group ids (the right reference, a wrong
    one shown for the same query) to batch together as hard negatives; `unpaired`: the
    rejected top matches of queries with no right answer, left out (no group to pair with);
    `queries`: the reviewed query texts among the groups' texts (the rest are the
    references' own)."""

    groups: GroupedTexts
    negatives: list[tuple[str, str]]
    unpaired: int
    queries: frozenset[str] = frozenset()


def feedback_groups(reviews: Iterable[Review], references: References,
                    dataset: str = "feedback") -> FeedbackGroups:
    """Training groups from reviews: one group per reference id an accepted or corrected
    review names (a query's latest decision), holding the reference's texts and those review
    queries; and hard negatives: each reference shown for a query and rejected (by a reject
    or a correction, its latest decision or an earlier one) paired with the query's right
    reference (its latest decision's), the wrong reference's texts a group too. A rejection
    whose query has no right answer is counted in `unpaired`; one the latest decision takes
    back (accepting the reference rejected before) is dropped."""
    reviews = list(reviews)
    rows = review_rows(reviews)
    position = {r: i for i, r in enumerate(references.ids)}
    queries: dict[str, list[str]] = {}
    unknown = 0
    for text, e in zip(rows.texts, rows.expected_ids, strict=True):
        if e is None:
            continue
        if e not in position:
            unknown += 1
            continue
        queries.setdefault(e, []).append(text)
    right = dict(zip(rows.texts, rows.expected_ids, strict=True))
    pairs: dict[tuple[str, str], None] = {}
    unpaired = 0
    for query, wrong in dict.fromkeys((r.query, r.rejected_id) for r in reviews
                                      if r.rejected_id is not None):
        e = right.get(query)
        if e is None:
            unpaired += 1
        elif wrong not in position:
            unknown += 1
        elif e != wrong and e in position:
            pairs[(e, wrong)] = None
    texts: list[str] = []
    labels: list[str] = []
    for ref_id in dict.fromkeys([*queries, *(w for _, w in pairs)]):
        own = [t for t, _ in references.texts_of(position[ref_id])]
        for t in dict.fromkeys(own + queries.get(ref_id, [])):
            texts.append(t)
            labels.append(ref_id)
    if unknown:
        logger.warning("%d reviews name a reference that is not among the references: left "
                       "out", unknown)
    return FeedbackGroups(GroupedTexts.from_labels(texts, labels, dataset),
                          [(f"{dataset}/{a}", f"{dataset}/{b}") for a, b in pairs], unpaired,
                          frozenset(t for qs in queries.values() for t in qs))


def reviews_in(folder: Path) -> list[Review]:
    """Every review stored in `folder` (InputError when it holds no store)."""
    with open_feedback(folder) as store:
        return store.reviews()


class StoredTexts:
    """The `feedback.learn.TextIndex` operations on an index store opened without its model:
    reading and removing texts needs none; adding one does (SurematchError)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, ids: Sequence[str]) -> list[Any]:
        from surematch.index.results import Reference
        from surematch.index.text_rows import provenance, split_payload

        out: list[Any] = []
        for p in self.store.get(list(ids)):
            if p is None:
                out.append(None)
                continue
            payload, texts = split_payload(p.payload)
            out.append(Reference(p.id, texts[0][0], payload, texts, provenance(p.payload)))
        return out

    def add_texts(self, ref_id: str, texts: Sequence[Any], provenance: Any = None) -> int:
        raise SurematchError("adding a learned text embeds it: give --model")

    def delete_text(self, ref_id: str, text: str) -> bool:
        from surematch.index.reference_index import remove_text

        return remove_text(self.store, ref_id, text)


def review_into_index(model_dir: Path, index_dir: Path, query: str, decision: str, *,
                      shown_id: str | None = None, corrected_id: str | None = None,
                      reviewer: str | None = None, learn_texts: bool = True,
                      runtime: str = DEFAULT_RUNTIME) -> tuple[Review, Learned]:
    """Store one review in the index folder's feedback store (as the service does) and, with
    `learn_texts`, teach the index what it says (`feedback.learn`). Ids the index does not
    hold are refused (InputError) with nothing stored."""
    from surematch.feedback.learn import Learned, learn
    from surematch.index.reference_index import ReferenceIndex
    from surematch.loader import load_model

    model = load_model(model_dir, runtime)
    with ReferenceIndex.open(index_dir, model) as index, FeedbackStore(index_dir) as store:
        review = store.add(query, decision, shown_id=shown_id, corrected_id=corrected_id,
                           reviewer=reviewer, model_id=model.identity(),
                           calibration_id=calibration_id(model_dir),
                           known_ids=lambda i: index.get([i])[0] is not None)
        learned = learn(index, store, review) if learn_texts else Learned("off", query)
    return review, learned


def undo_review(index_dir: Path, review_id: int, model_dir: Path | None = None,
                runtime: str = DEFAULT_RUNTIME) -> tuple[Review, Learned | None]:
    """Undo a review stored in the index folder: its learned text goes. With the model, what
    the query's other reviews say is applied too; without, only removals ("pending" when a
    text should now be added)."""
    from surematch.feedback.learn import undo

    store = open_feedback(index_dir)
    try:
        if model_dir is not None:
            from surematch.index.reference_index import ReferenceIndex
            from surematch.loader import load_model

            with ReferenceIndex.open(index_dir, load_model(model_dir, runtime)) as index:
                return undo(index, store, review_id)
        from surematch.index.stores import IndexLocation, open_store

        location = IndexLocation.of(index_dir)
        location.require()
        texts = open_store(location, None)
        try:
            return undo(StoredTexts(texts), store, review_id, can_add=False)
        finally:
            texts.close()
    finally:
        store.close()
