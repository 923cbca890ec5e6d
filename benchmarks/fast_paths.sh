#!/usr/bin/env bash
# Imports and files of queries, onnx-int8 vs torch: 20,000 ESCO alternative titles indexed as
# references, then matched back as a file of queries (peak memory by /usr/bin/time).
set -u
cd "$(dirname "$0")/.."
M=${1:?usage: benchmarks/fast_paths.sh MODEL_DIR (exported, e.g. surematch-demo/model)}
export HF_HUB_OFFLINE=1
.venv/bin/python - <<'PY'
from surematch.data.esco import read_esco
occ = read_esco()
rows = [(f"{o.uri}#{i}", t) for o in occ for i, t in enumerate(o.alternatives)][:20000]
import csv
with open("/tmp/m14_refs.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "text"]); w.writerows(rows)
with open("/tmp/m14_queries.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["query"]); w.writerows([[t] for _, t in rows])
print(len(rows), "rows")
PY
for rt in onnx-int8 torch; do
  rm -rf /tmp/m14_ix_$rt
  s=$(date +%s.%N)
  .venv/bin/surematch index $M /tmp/m14_refs.csv --index /tmp/m14_ix_$rt --runtime $rt --no-optimize > /tmp/m14_index_$rt.log 2>&1
  e=$(date +%s.%N); echo "index $rt: $(echo "20000/($e-$s)" | bc -l | cut -c1-7) texts/s ($(echo "$e-$s" | bc) s)"
done
rm -f /tmp/m14_out.csv
/usr/bin/time -v .venv/bin/surematch match $M --index /tmp/m14_ix_onnx-int8 --runtime onnx-int8 --queries /tmp/m14_queries.csv --out /tmp/m14_out.csv -k 5 > /tmp/m14_match.log 2>&1
grep -E "matched|Maximum resident|Elapsed" /tmp/m14_match.log
