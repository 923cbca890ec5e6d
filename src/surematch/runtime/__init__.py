"""Fast inference: a model exported as one ONNX graph (fp32 / int8) and thread choices per call.

Exporting (`surematch.runtime.export.export_model`) needs torch; running a graph
(`surematch.runtime.onnx_model.OnnxModel`) does not, so this package imports neither.
"""
