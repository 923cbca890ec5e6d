"""export_model: a text model as one ONNX graph (fp32 and dynamic int8) beside its saved folder."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

import surematch
from surematch.encoders.text import TextEncoder
from surematch.errors import InputError, SurematchError
from surematch.folder import (
    CONFIG_FILE,
    GRAPH_FILES,
    RUNTIME_FORMAT_VERSION,
    read_model_meta,
    sha256_file,
    write_manifest,
)
from surematch.model import SimilarityModel
from surematch.runtime.graph import ExportGraph

log = logging.getLogger(__name__)

OPSET = 17
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.txt")  # tokenizer.json is the one read at run time
INPUTS, OUTPUTS = ("input_ids", "attention_mask"), ("embedding", "confidence")
AXES = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
        "embedding": {0: "batch"}, "confidence": {0: "batch"}}


def export_model(model: SimilarityModel, folder: str | Path,
                 calibration_texts: Sequence[str] | None = None) -> dict[str, Any]:
    """Write `model.onnx` (fp32), `model.int8.onnx` (static int8), the tokenizer files and
    `runtime.json` into the model's folder; returns what runtime.json records.

    The folder must hold this model (its surematch.json model_id is the model's identity);
    a folder without a model gets it saved first. Text models only. The int8 graph's
    activation ranges are measured on `calibration_texts` (default `default_int8_texts`:
    bundled ESCO titles and descriptions and out-of-domain strings); texts like the ones the
    model will embed give the closest int8 embeddings.
    """
    folder = Path(folder)
    encoder = model.encoder
    if not isinstance(encoder, TextEncoder):
        raise InputError(f"export supports text models only; this model's encoder is "
                         f"{encoder.kind!r} (use runtime 'torch' for it)")
    model_id = model.identity()
    if not (folder / CONFIG_FILE).is_file():
        model.save(folder)
    elif (saved := read_model_meta(folder).get("model_id")) != model_id:
        raise InputError(f"{folder} holds model {saved}, not this one ({model_id}); save the "
                         "model there first or export to its own folder")
    tokenizer = _tokenizer_source(encoder)
    texts = list(default_int8_texts() if calibration_texts is None else calibration_texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise InputError("calibration_texts: give at least one non-empty text",
                         field="calibration_texts")
    with tempfile.TemporaryDirectory(prefix=".export.", dir=folder) as tmp:
        fp32, int8 = Path(tmp) / GRAPH_FILES["onnx"], Path(tmp) / GRAPH_FILES["onnx-int8"]
        write_graph(model, fp32)
        check_graph(model, fp32)
        quantize_static_graph(fp32, int8, tokenizer / "tokenizer.json", model, texts)
        for name in TOKENIZER_FILES:
            if (tokenizer / name).is_file():
                shutil.copyfile(tokenizer / name, Path(tmp) / name)
                os.replace(Path(tmp) / name, folder / name)
        for path in (fp32, int8):
            os.replace(path, folder / path.name)
    manifest = {
        "format_version": RUNTIME_FORMAT_VERSION,
        "model_id": model_id,
        "dim": model.dim,
        "has_confidence": model.has_confidence,
        "inputs": list(INPUTS), "outputs": list(OUTPUTS),
        "tokenizer": {"file": "tokenizer.json", "sha256": sha256_file(folder / "tokenizer.json"),
                      "max_seq_length": int(encoder.st.max_seq_length or 0),
                      "pad_id": int(encoder.st.tokenizer.pad_token_id or 0),
                      "pad_token": str(encoder.st.tokenizer.pad_token or "[PAD]")},
        "graphs": {runtime: {"file": name, "sha256": sha256_file(folder / name),
                             "model_id": model_id}
                   for runtime, name in GRAPH_FILES.items()},
        "int8_activations": {"scales": "static", "calibration_texts": len(texts)},
        "exported_with": {"surematch": surematch.__version__, "torch": torch.__version__,
                          "opset": OPSET},
    }
    write_manifest(folder, manifest)
    log.info("exported model %s to %s (%s)", model_id, folder, ", ".join(GRAPH_FILES.values()))
    return manifest


def _rms_norm_symbolic(g: Any, x: Any, shape: Any, weight: Any, eps: Any) -> Any:
    """aten::rms_norm for the legacy exporter, which has no symbolic for it below opset 23:
    x / sqrt(mean(x², last len(shape) axes) + eps) (* weight)."""
    from torch.onnx import symbolic_helper

    axes = list(range(-len(symbolic_helper._get_const(shape, "is", "normalized_shape")), 0))
    value = symbolic_helper._maybe_get_const(eps, "f")
    eps_value = float(value) if isinstance(value, float | int) else float(torch.finfo().eps)
    mean = g.op("ReduceMean", g.op("Mul", x, x), axes_i=axes, keepdims_i=1)
    root = g.op("Sqrt", g.op("Add", mean, g.op("Constant",
                                               value_t=torch.tensor(eps_value, dtype=torch.float))))
    out = g.op("Div", x, root)
    return out if symbolic_helper._is_none(weight) else g.op("Mul", out, weight)


def write_graph(model: SimilarityModel, path: Path) -> Path:
    """The fp32 graph: input_ids, attention_mask [B, T] -> embedding [B, D], confidence [B]."""
    encoder = cast(TextEncoder, model.encoder)  # export_model checked the kind
    graph = ExportGraph(encoder, model.head)
    features = encoder.st.preprocess(["an example text to trace", "two"])
    example = (features["input_ids"], features["attention_mask"])
    was_training = model.training
    model.eval()
    torch.onnx.register_custom_op_symbolic("aten::rms_norm", _rms_norm_symbolic, OPSET)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
            torch.onnx.export(graph, example, str(path), input_names=list(INPUTS),
                              output_names=list(OUTPUTS), dynamic_axes=AXES,
                              opset_version=OPSET, dynamo=False)
    finally:
        model.train(was_training)
    return path


class _QuietQuantiser(logging.Filter):
    """onnxruntime's quantiser logs on the root logger: an INFO line per tensor it skips or
    scales (hundreds), a hint about pre-processing for static quantisation of CNNs that does
    not apply here, and, when the token embeddings are quantised after the static pass, a
    warning that the model "is already quantized" (it is, on purpose). Keep its real warnings
    only."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return record.levelno >= logging.WARNING and \
            "pre-processing before quantization" not in message and \
            "already quantized" not in message


def check_graph(model: SimilarityModel, path: Path, tolerance: float = 1e-4) -> float:
    """Run the fp32 graph on a few texts and compare with the torch model; returns the largest
    difference, SurematchError above `tolerance` (an exporter gap for this architecture)."""
    import onnxruntime as ort

    texts = ["python developer", "Koch/Köchin", "chief executive officer of a large company", ""]
    features = cast(TextEncoder, model.encoder).st.preprocess(texts)
    inputs = {name: features[name].numpy() for name in INPUTS}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    embedding, confidence = session.run(None, inputs)
    expected, expected_confidence = model.embed_with_confidence(texts)
    worst = max(float(np.abs(embedding - expected).max()),
                float(np.abs(confidence - expected_confidence).max()))
    if not worst <= tolerance:
        raise SurematchError(f"the exported graph differs from the torch model by {worst:.3g} "
                             f"(more than {tolerance}); this encoder does not export faithfully, "
                             "keep runtime 'torch' for it")
    return worst


INT8_TEXTS = 512
"""Texts whose activation ranges fix the int8 graph's scales (`default_int8_texts`)."""


def default_int8_texts(n: int = INT8_TEXTS) -> list[str]:
    """A fixed mix of short and long texts to measure activation ranges on: bundled ESCO
    preferred and alternative titles (5 in 8), descriptions (2 in 8) and the out-of-domain
    strings (the rest), every k-th so the sample is the same on every machine."""
    from importlib.resources import files

    from surematch.data.esco import read_esco

    occupations = read_esco()
    titles = [t for o in occupations for t in o.titles]
    descriptions = [o.description for o in occupations if o.description.strip()]
    odd = [line.strip() for line in files("surematch").joinpath(
        "resources", "out_of_domain.txt").read_text("utf-8").splitlines() if line.strip()]
    want = {"titles": 5 * n // 8, "descriptions": 2 * n // 8}
    picked = (titles[:: max(1, len(titles) // want["titles"])][: want["titles"]]
              + descriptions[:: max(1, len(descriptions) // want["descriptions"])][
                  : want["descriptions"]])
    return picked + odd[: n - len(picked)]


def quantize_static_graph(fp32: Path, int8: Path, tokenizer: Path, model: SimilarityModel,
                          texts: Sequence[str]) -> Path:
    """Static int8 quantisation of the fp32 graph: int8 weights (one scale per output
    channel) and activation scales fixed here from the ranges `texts` reach (each run alone,
    so no padding widens them), in QDQ form on the MatMuls with constant weights except the
    feed-forward down-projections (`after_gelu`, left in fp32), and int8 token embeddings.

    Fixed scales make a text's vector independent of the batch it is run in, its position,
    its padding and the thread count (dynamic quantisation took one activation scale per
    graph run: a title's vector moved by up to 0.05 with its batch). On ESCO it was also
    faster, at the same P@1 (BENCHMARKS.md, batch invariance).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    from surematch.runtime.tokens import TextTokenizer

    encoder = cast(TextEncoder, model.encoder)
    tok = TextTokenizer(tokenizer, int(encoder.st.max_seq_length or 512),
                        int(encoder.st.tokenizer.pad_token_id or 0),
                        str(encoder.st.tokenizer.pad_token or "[PAD]"))

    class Texts(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = (dict(zip(INPUTS, tok([t]), strict=True)) for t in texts)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    quiet = _QuietQuantiser()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    static = int8.with_name(f".static.{int8.name}")
    try:
        quantize_static(str(fp32), str(static), Texts(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                        nodes_to_exclude=after_gelu(fp32),
                        extra_options={"MatMulConstBOnly": True})
        # the token embedding table: int8 weights, looked up and dequantised (no activation
        # is quantised, so nothing depends on the batch)
        quantize_dynamic(str(static), str(int8), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["Gather"])
    finally:
        static.unlink(missing_ok=True)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(quiet)
    return int8


def after_gelu(graph: Path) -> list[str]:
    """MatMuls whose input comes from a GELU (an Erf, Gelu or Tanh among its four nearest
    producers): a transformer's feed-forward down-projections. Their input spans a range one
    fixed scale resolves poorly (MiniLM on ESCO texts: mean cosine to fp32 0.913 with them
    quantised, 0.990 with them left in fp32), so static quantisation leaves them out."""
    import onnx

    nodes = onnx.load(str(graph), load_external_data=False).graph.node
    producer = {out: node for node in nodes for out in node.output}

    def near(name: str, depth: int) -> bool:
        node = producer.get(name)
        if node is None or depth == 0:
            return False
        return node.op_type in ("Erf", "Gelu", "FastGelu", "Tanh") or any(
            near(i, depth - 1) for i in node.input)

    return [n.name for n in nodes if n.op_type == "MatMul" and near(n.input[0], 4)]


def quantize_graph(fp32: Path, int8: Path) -> Path:
    """Dynamic int8 quantisation of the fp32 graph: int8 weights (one scale per output channel),
    activations quantised per call; about a quarter of the size and faster on CPUs. Exports
    before issue #21 wrote this graph; its scales depend on the batch, so `OnnxModel` runs
    such a graph one text at a time (new exports are static: `quantize_static_graph`).

    Per-channel scales matter: on ESCO titles with MiniLM, the mean cosine to the fp32
    embedding is 0.994 with them and 0.975 with one scale per tensor.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = _QuietQuantiser()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    try:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(quiet)
    return int8


def _tokenizer_source(encoder: TextEncoder) -> Path:
    """The sentence-transformers folder holding the encoder's fast tokenizer (tokenizer.json)."""
    if not (encoder.path / "tokenizer.json").is_file():
        raise InputError(f"export needs a fast tokenizer: {encoder.path} has no tokenizer.json")
    return encoder.path
