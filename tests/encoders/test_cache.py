"""The embedding cache: each distinct item encoded once, across lookups and across runs."""

import numpy as np

from surematch.encoders.cache import EmbeddingCache, content_key


class CountingEncoder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, items: list[str]) -> np.ndarray:
        self.calls.append(list(items))
        return np.array([[len(t), t.count("a")] for t in items], dtype=np.float32)


def test_misses_are_encoded_once_and_hits_are_not(tmp_path):
    enc = CountingEncoder()
    cache = EmbeddingCache(tmp_path, "enc-1")
    first = cache.lookup(["aa", "b", "aa"], enc)
    assert enc.calls == [["aa", "b"]]  # the duplicate is encoded once
    assert (cache.hits, cache.misses) == (1, 2)
    second = cache.lookup(["b", "ccc"], enc)
    assert enc.calls[-1] == ["ccc"]
    np.testing.assert_array_equal(first[1], second[0])
    assert (cache.hits, cache.misses) == (2, 3)


def test_a_later_run_reads_the_disk_cache(tmp_path):
    EmbeddingCache(tmp_path, "enc-1").lookup(["x", "yy"], CountingEncoder())
    enc = CountingEncoder()
    again = EmbeddingCache(tmp_path, "enc-1")
    out = again.lookup(["yy", "x"], enc)
    assert enc.calls == [] and again.hits == 2
    np.testing.assert_array_equal(out, [[2, 0], [1, 0]])


def test_another_encoder_identity_misses(tmp_path):
    EmbeddingCache(tmp_path, "enc-1").lookup(["x"], CountingEncoder())
    enc = CountingEncoder()
    EmbeddingCache(tmp_path, "enc-2").lookup(["x"], enc)
    assert enc.calls == [["x"]]


def test_a_damaged_shard_is_skipped_not_fatal(tmp_path):
    cache = EmbeddingCache(tmp_path, "enc-1")
    cache.lookup(["x"], CountingEncoder())
    (cache.folder / "shard-999999-1.safetensors").write_bytes(b"not safetensors")
    enc = CountingEncoder()
    EmbeddingCache(tmp_path, "enc-1").lookup(["x", "new"], enc)
    assert enc.calls == [["new"]]


def test_content_keys_tell_texts_and_arrays_apart():
    assert content_key("a") != content_key("b")
    assert content_key(np.zeros((2, 2))) != content_key(np.zeros((4,)))
    assert content_key(np.ones(3, np.float32)) == content_key(np.ones(3, np.float32))
