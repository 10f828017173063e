#!/usr/bin/env bash
# `make docs`: DocC documentation of every library module, from the toolchain's own `docc` (no plugin
# package to resolve). Symbol graphs come from `swift package dump-symbol-graph` in a scratch build
# folder of their own (.build-docs), then each module converts into .build-docs/docs/<Module>.doccarchive.
# Warnings (an undocumented parameter, a broken symbol link) fail the build, so the docs stay clean.
set -euo pipefail
cd "$(dirname "$0")/.."
swift="${SWIFT:-swift}"
docc="${DOCC:-$(dirname "$(command -v "$swift")")/docc}"
command -v "$docc" >/dev/null || docc=docc
scratch=.build-docs
# SwiftPM and the compiler driver leave TemporaryDirectory.* folders in $TMPDIR on every build: keep them in
# a folder of our own and remove it afterwards, as `make test` does.
mkdir -p "$scratch"
TMPDIR=$(mktemp -d "$PWD/$scratch/tmp.XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
modules=(VLSAECore VLSAEFormats VLSAEData VLSAEModel VLSAEEval VLSAEReport VLSAEPlot VLSAESynth VLSAEJobs)

echo "docs: symbol graphs (public API) ..."
find "$scratch" -type d -name symbolgraph -prune -exec rm -rf {} + 2>/dev/null || true
# The command also tries SwiftPM's generated test-runner modules, which have no symbol graph, and then exits
# non-zero; what counts is that every library module below got its graph.
"$swift" package --scratch-path "$scratch" dump-symbol-graph --minimum-access-level public >"$scratch.log" 2>&1 || true
graphs=$(find "$scratch" -type d -name symbolgraph | head -n 1)
for m in "${modules[@]}"; do
  if [ -z "$graphs" ] || [ ! -f "$graphs/$m.symbols.json" ]; then
    tail -n 30 "$scratch.log" >&2
    echo "docs: no symbol graph for $m (log: $scratch.log)" >&2
    exit 1
  fi
done
rm -f "$scratch.log"

mkdir -p "$scratch/docs"
status=0
for m in "${modules[@]}"; do
  work=$(mktemp -d "$scratch/graphs.XXXXXX")
  cp "$graphs/$m.symbols.json" "$work/"
  cp "$graphs/$m@"*.symbols.json "$work/" 2>/dev/null || true
  if "$docc" convert --additional-symbol-graph-dir "$work" --fallback-display-name "$m" \
       --fallback-bundle-identifier "vlsae-bench.$m" --output-path "$scratch/docs/$m.doccarchive" \
       --analyze --warnings-as-errors >"$work/docc.log" 2>&1; then
    echo "docs: $m → $scratch/docs/$m.doccarchive"
  else
    cat "$work/docc.log" >&2
    echo "docs: $m has documentation warnings (above)" >&2
    status=1
  fi
  rm -rf "$work"
done
exit $status
