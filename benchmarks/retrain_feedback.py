"""#15: retraining with 1,000 reviewed queries (reviewer = ground truth) vs the model before.

Run: `.venv/bin/python benchmarks/retrain_feedback.py` (known-occupations protocol, default recipe;
the reviews are the first 1,000 calibration titles: accept when the top match is right, else
correct to the right reference; retrained on the training groups plus `train --feedback`'s
groups).
"""
import json
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from surematch.config import Config
from surematch.data import combine_groups
from surematch.data.esco import known_occupations, read_esco
from surematch.data.samples import LabelledQueries
from surematch.evaluation.ranked_queries import rank_queries
from surematch.feedback.store import FeedbackStore
from surematch.training import train
from surematch.workflows.feedback import feedback_groups

known = known_occupations(read_esco())
base = train(Config(), known.training, progress=False)
cal = LabelledQueries(known.calibration.texts[:1000], known.calibration.expected_ids[:1000])
ranked = rank_queries(base, known.references, cal)
with tempfile.TemporaryDirectory() as tmp:
    store = FeedbackStore(tmp)
    for q, ids, exp in zip(cal.texts, ranked.ids, cal.expected_ids, strict=True):
        if ids[0] == exp:
            store.add(q, "accept", shown_id=ids[0])
        else:
            store.add(q, "correct", shown_id=ids[0], corrected_id=exp)
    groups, _ = feedback_groups(store.reviews(), known.references)
    store.close()
after = train(Config(), combine_groups([known.training, groups]), progress=False)
b = rank_queries(base, known.references, known.test).metrics()["p_at_1"]
a = rank_queries(after, known.references, known.test).metrics()["p_at_1"]
print(json.dumps({"reviews": 1000, "right_before": int(ranked.correct.sum()),
                  "test_p_at_1_before": b, "test_p_at_1_after": a}))
