"""Fast inference: a model exported as one ONNX graph (fp32 / int8) and thread choices per call.

Exporting (`surematch.runtime.export.export_model`) needs torch; running a graph does not,
so this package's own imports leave torch out.
"""

from surematch.runtime.manifest import RUNTIMES, available_runtimes, resolve_runtime
from surematch.runtime.onnx_model import OnnxModel
from surematch.runtime.threads import threads_for, torch_threads

__all__ = ["RUNTIMES", "OnnxModel", "available_runtimes", "resolve_runtime", "threads_for",
           "torch_threads"]
