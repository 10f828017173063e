#!/usr/bin/env bash
# The main job behind `make run`, on the embedded default suite:
#   synthetic planted-concept suite (Datasets/default, reused when intact)
#   → VL-SAE trained with the paper's recipe scaled to the suite: k 8 matches the suite's planted
#     sparsity (4–12 concepts per pair), batch 256 gives Adam enough steps on 24k training pairs
#   → zero-shot baseline and concept-aligned rows, alpha validated by 5-fold CV (never oracle), and
#     the planted-concepts ceiling: the same alignment with the suite's ground-truth codes as f
#   → concept recovery against the planted ground truth
#   → Results/default.json, Results/default.md (printed)
# Every step is a plain `vlsae` command: the same commands work on real embeddings (README).
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:-.build/release/vlsae}
SUITE=Datasets/default
OUT=Results
CKPT=$OUT/default-vlsae.safetensors
THREADS=2          # speed only: results are byte-identical at any thread count and on any CPU
GRID="0;0.01;0.02;0.05;0.1;0.2;0.5;1"
mkdir -p "$OUT"
t0=$(date +%s)

echo "== 1/5 synthetic suite → $SUITE"
"$V" synth --out "$SUITE" --seed 0

echo "== 2/5 train VL-SAE (d 512, hidden ratio 4, k 8; Adam 1e-3, batch 256, 10 epochs, 2 warm-up)"
"$V" train --pairs "$SUITE/train_image.npy" "$SUITE/train_text.npy" --out "$CKPT" \
  --arch vlsae --topk 8 --hidden-ratio 4 --lr 1e-3 --batch-size 256 --epochs 10 --warmup-epochs 2 \
  --val-ratio 0.2 --seed 0 --threads "$THREADS" 2>&1 | tee "$OUT/.default-train.log"

echo "== 3/5 zero-shot: baseline + concept alignment + planted-concepts ceiling (alpha validated by 5-fold CV on grid $GRID)"
"$V" eval --data "$SUITE/synth10/manifest.json" "$SUITE/synth100/manifest.json" "$SUITE/synth1000/manifest.json" \
  --sae "$CKPT" --seed 0 --threads "$THREADS" \
  --alignment "representation=hidden,text=average-first,alpha=validated:$GRID" \
  --alignment "representation=reconstruction,text=per-template,alpha=validated:$GRID" \
  --alignment "representation=planted,alpha=validated:$GRID" \
  --out "$OUT/default.json" > /dev/null

echo "== 4/5 concept recovery against the planted concepts"
recovery=$("$V" recovery --sae "$CKPT" --suite "$SUITE" --out "$OUT/default-recovery.json")

echo "== 5/5 report"
table=$("$V" report "$OUT/default.json" --format markdown)
summary=$(grep -E '^(epoch|best)' "$OUT/.default-train.log" | tail -2)
rm -f "$OUT/.default-train.log"
tmp=$(mktemp "$OUT/.default.md.XXXXXX")
cat > "$tmp" <<MD
# VLSAE Bench — default synthetic suite

Planted-concept synthetic embeddings (\`vlsae synth --seed 0\`, geometry calibrated to real CLIP
ViT-B/32 statistics). They make no claim about real CLIP: they exercise the whole pipeline on data
whose true concepts are known. Machine-readable results: \`Results/default.json\`,
\`Results/default-recovery.json\`.

## Zero-shot top-1 accuracy (%)

$table

## Concept recovery (checkpoint \`$CKPT\`)

$recovery

## Training (last epoch and best checkpoint)

\`\`\`
$summary
\`\`\`
MD
mv "$tmp" "$OUT/default.md"
cat "$OUT/default.md"
echo
echo "wrote $OUT/default.json and $OUT/default.md in $(( $(date +%s) - t0 )) s"
echo
echo "== against the committed golden result (Results/golden/default.json), byte for byte"
# The numbers do not depend on the CPU, kernel path or thread count, so the golden must be reproduced exactly.
if ! "$V" regress --exact --baseline "$OUT/golden/default.json" --candidate "$OUT/default.json"; then
  echo "make run: FAILED: $OUT/default.json does not reproduce $OUT/golden/default.json (see above)" >&2
  exit 1
fi
