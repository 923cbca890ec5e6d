"""Workflows: one function per user job, under the thin CLI and HTTP service.

Each takes plain arguments, returns a result object and prints nothing; the CLI and the
service only parse, call one of these, and render.

| job | function |
| --- | --- |
| read the user's files | `data.load_training_data`, `data.load_matching_data` |
| train a model | `train.train_model` |
| calibrate a model | `calibrate.calibrate_model` |
| evaluate a model | `evaluate.evaluate_model` |
| build, open and query an index | `indexes.open_index`, `indexes.add_references`, `indexes.match` |
| match a file of queries (resumable) | `match_file.match_file` |
| verify a pair | `verify.Verifier`, `verify.verify_texts` |
| the demo | `demo.run_demo` |
"""
