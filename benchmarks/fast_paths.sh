#!/usr/bin/env bash
# Imports and files of queries (issue #14), onnx-int8 vs torch, on the demo's model and index:
#   benchmarks/fast_paths.sh surematch-demo/model surematch-demo/index
# 1. import: 20,000 ESCO alternative titles indexed as one-text references into a new embedded
#    index (no search graph), per runtime.
# 2. file: 100,000 distinct queries (every ESCO title, bare and with job-ad decorations such as
#    "senior ..." or "... (m/f/d)") matched against the demo's index (the ESCO references)
#    with -k 5; wall time includes process start and model load; peak memory by /usr/bin/time.
set -u
cd "$(dirname "$0")/.."
M=${1:?usage: benchmarks/fast_paths.sh MODEL_DIR INDEX_DIR (e.g. surematch-demo/model)}
IX=${2:?usage: benchmarks/fast_paths.sh MODEL_DIR INDEX_DIR}
T=${TMPDIR:-/tmp}/surematch_fast_paths
rm -rf "$T" && mkdir -p "$T"
export HF_HUB_OFFLINE=1
.venv/bin/python - "$T" <<'PY'
import csv, itertools, sys
from surematch.data.esco import read_esco
out = sys.argv[1]
occ = read_esco()
rows = [(f"{o.uri}#{i}", t) for o in occ for i, t in enumerate(o.alternatives)][:20000]
with open(f"{out}/refs.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "text"]); w.writerows(rows)
titles = list(dict.fromkeys(t for o in occ for t in (o.preferred, *o.alternatives)))
forms = ["{}", "senior {}", "{} (m/f/d)", "junior {}", "{} - full time"]
queries = list(dict.fromkeys(f.format(t) for f in forms for t in titles))[:100_000]
with open(f"{out}/queries.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["query"]); w.writerows([q] for q in queries)
print(f"{len(rows):,} references to import, {len(queries):,} distinct queries")
PY
rate() { .venv/bin/python -c 'import sys; n, s, e = map(float, sys.argv[1:]); print(f"{e - s:.1f} s = {n / (e - s):,.0f}/s")' "$@"; }
for rt in onnx-int8 torch; do
  s=$(date +%s.%N)
  .venv/bin/surematch index "$M" "$T/refs.csv" --index "$T/ix_$rt" --runtime $rt --no-optimize \
    > "$T/index_$rt.log" 2>&1 || { cat "$T/index_$rt.log"; exit 1; }
  e=$(date +%s.%N)
  echo "import $rt: 20,000 texts in $(rate 20000 "$s" "$e")"
done
cp -r "$IX" "$T/demo_ix"  # the server-free embedded index is locked by one process at a time
for rt in onnx-int8 torch; do
  rm -f "$T/out.csv"
  /usr/bin/time -v .venv/bin/surematch match "$M" --index "$T/demo_ix" --runtime $rt \
    --queries "$T/queries.csv" --out "$T/out.csv" -k 5 > "$T/match_$rt.log" 2>&1
  peak=$(grep 'Maximum resident' "$T/match_$rt.log" | awk '{print int($NF / 1024)}')
  echo "file $rt: $(grep -E '^matched' "$T/match_$rt.log"), peak $peak MiB"
done
