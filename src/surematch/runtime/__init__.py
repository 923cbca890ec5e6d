"""Fast inference: a model exported as one ONNX graph (fp32 / int8) and thread choices per call."""

from surematch.runtime.export import export_model
from surematch.runtime.manifest import RUNTIMES, available_runtimes, resolve_runtime
from surematch.runtime.onnx_model import OnnxModel
from surematch.runtime.threads import threads_for, torch_threads

__all__ = ["RUNTIMES", "OnnxModel", "available_runtimes", "export_model", "resolve_runtime",
           "threads_for", "torch_threads"]
