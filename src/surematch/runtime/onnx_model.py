"""OnnxModel: a model folder's exported graph behind the embedding surface of SimilarityModel."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surematch.errors import ModelFormatError
from surematch.folder import checked_graph, read_model_meta, sha256_file
from surematch.runtime.threads import threads_for
from surematch.runtime.tokens import TextTokenizer

# texts per graph run, whatever batch the caller passes: on 2 cores (int8, ESCO titles) runs
# of 64 embed 2,028 texts/s and runs of 256 1,635 (longer padding, larger activations); texts
# are run shortest first, so each run pads to a length near its own (+40 %: 1,513 -> 2,178)
RUN_BATCH = 64


def session_options(threads: int) -> Any:
    """onnxruntime options for `threads` intra-op threads (1 for small batches: see
    surematch.runtime.threads), one inter-op thread, full graph optimisation.

    With several threads, idle ones sleep instead of spinning: on cores shared with other
    processes, spinning threads slowed a batch of 256 from 0.32 s to 0.49 s (int8, 2 cores).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if threads > 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxModel:
    """Embeds texts with a folder's `model.onnx` ("onnx") or `model.int8.onnx` ("onnx-int8").

    Offers what callers use of SimilarityModel: `embed`, `embed_with_confidence`,
    `embedding_confidence`, `has_confidence`, `dim`, `identity()` (the id of the torch model it
    was exported from), `folder`, `info`; plus `runtime`. The graph's sha256 is checked against
    runtime.json and its model id against surematch.json before it is used. Sessions are made
    on first use, one per thread count (1 for small batches, every core for large ones), and
    are safe to call from several threads.
    """

    def __init__(self, folder: str | Path, runtime: str) -> None:
        self.folder = Path(folder)
        self.runtime = runtime
        self.graph, manifest = checked_graph(self.folder, runtime)
        meta = read_model_meta(self.folder)
        self.info: dict[str, Any] = dict(meta.get("info") or {})
        try:
            self._model_id = str(manifest["graphs"][runtime]["model_id"])
            self.dim = int(manifest["dim"])
            self.has_confidence = bool(manifest["has_confidence"])
            tok = manifest["tokenizer"]
            tokenizer_path = self.folder / tok["file"]
            if not tokenizer_path.is_file() or sha256_file(tokenizer_path) != tok["sha256"]:
                raise ModelFormatError(f"{tokenizer_path} is missing or not the tokenizer that "
                                       "was exported; export the model again")
            self.tokenizer = TextTokenizer(tokenizer_path, int(tok["max_seq_length"]),
                                           int(tok["pad_id"]), str(tok["pad_token"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{self.folder}/runtime.json is damaged ({exc!r}); "
                                   "export the model again") from None
        # an int8 graph with dynamic activation scales (exported before issue #21) takes
        # them from each run: run it one text at a time so a text's vector is its own
        dynamic = runtime == "onnx-int8" and (manifest.get("int8_activations") or {}).get(
            "scales") != "static"
        self.run_batch = 1 if dynamic else RUN_BATCH
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def identity(self) -> str:
        """The id of the torch model this graph was exported from (an index accepts either)."""
        return self._model_id

    def session(self, threads: int) -> Any:
        """The onnxruntime session with `threads` intra-op threads, made on first use."""
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                self._sessions[threads] = ort.InferenceSession(
                    str(self.graph), sess_options=session_options(threads),
                    providers=["CPUExecutionProvider"])
            return self._sessions[threads]

    def run(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """One batch: texts [B] -> embedding [B, D] float32, confidence [B] float32."""
        ids, mask = self.tokenizer(texts)
        session = self.session(threads_for(len(texts)))
        embedding, confidence = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return embedding.astype(np.float32), confidence.astype(np.float32)

    def embed_with_confidence(
        self, items: Sequence[str], batch_size: int = 256
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings [N, D] (L2-normalised) and embedding confidence [N] from one pass, in
        the order of `items` (run in graph runs of `run_batch`, shortest texts first). A
        text's vector does not depend on the others, its position or padding, to float
        rounding (the int8 graph's activation scales are fixed at export)."""
        if len(items) == 0:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.float32)
        step = max(1, min(batch_size, self.run_batch))
        order = sorted(range(len(items)), key=lambda i: len(str(items[i])))
        parts = [self.run([items[i] for i in order[s : s + step]])
                 for s in range(0, len(items), step)]
        embedding, confidence = np.empty((len(items), self.dim), np.float32), np.empty(
            len(items), np.float32)
        embedding[order] = np.concatenate([p[0] for p in parts])
        confidence[order] = np.concatenate([p[1] for p in parts])
        return embedding, confidence

    def embed(self, items: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Texts [N] -> L2-normalised float32 embeddings [N, D]."""
        return self.embed_with_confidence(items, batch_size)[0]

    def embedding_confidence(self, items: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """How sure the model is about each text itself, in [0, 1] (1.0 without feature groups)."""
        return self.embed_with_confidence(items, batch_size)[1]

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.folder)!r}, runtime={self.runtime!r}, id={self._model_id})"
