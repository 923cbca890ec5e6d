"""Match evidence: a reviewer's text is told apart from the taxonomy's own."""

from __future__ import annotations

import numpy as np

from surematch.confidence.evidence.lexical import EVIDENCE, lexical_evidence


def test_a_reviewed_text_is_not_exact_evidence_but_its_own():
    texts = [[["Bicycle mechanic", "bike repairer"], ["motor vehicle technician",
                                                      "auto mechanic"]]]
    kinds = [[["title", "synonym"], ["title", "reviewed"]]]
    matched = [["bike repairer", "auto mechanic"]]
    ev = lexical_evidence(["Auto Mechanics"], matched, texts, kinds)
    assert ev["exact"].tolist() == [[0.0, 0.0]] and ev["reviewed"].tolist() == [[0.0, 1.0]]
    own = lexical_evidence(["bike repairers"], matched, texts, kinds)
    assert own["exact"].tolist() == [[1.0, 0.0]] and own["reviewed"].tolist() == [[0.0, 0.0]]
    # without kinds every text is the reference's own
    plain = lexical_evidence(["auto mechanic"], matched, texts)
    assert plain["exact"].tolist() == [[0.0, 1.0]] and not np.any(plain["reviewed"])
    assert "reviewed" in EVIDENCE


def test_the_head_evidence_asks_whether_the_query_ends_on_a_references_head_word():
    from surematch.confidence.evidence.lexical import head_word, head_words

    assert head_word("Wood boring machine operators") == "operator"
    assert head_word("actor/actress") == head_word("Actress") and head_word("...") == ""
    heads = head_words([("carpet fitter", "title"), ("floor layers", "synonym"),
                        ("Fits carpet and other floor coverings.", "description")])
    assert heads == {"fitter", "layer"}  # a description's last word heads nothing
    texts, kinds = [[["carpet fitter", "floor layer"]]], [[["title", "synonym"]]]
    ev = lexical_evidence(["Floor Layers", "carpet"], [["floor layer"], ["carpet fitter"]],
                          texts * 2, kinds * 2, heads)
    assert ev["head"].tolist() == [[1.0], [0.0]]
    unknown = lexical_evidence(["carpet"], [["carpet fitter"]], texts, kinds)
    assert unknown["head"].tolist() == [[1.0]]  # no vocabulary: evidence against nothing
    assert "head" in EVIDENCE
