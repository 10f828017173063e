# VLSAE Bench — `make run` (the main job on the embedded default suite) and `make test`.
SWIFT      ?= swift
CONFIG     ?= release
SYSTEM_PKGS = libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev
# For the tests only: headless Chromium loads the page `vlsae concepts` writes (ConceptsOutputTests).
TEST_PKGS   = chromium
VLSAE       = .build/$(CONFIG)/vlsae

.PHONY: all setup deps test-deps build run test bench fuzz lint format docs clean

all: build

# Install the system libraries when missing (Debian/Ubuntu, needs root or sudo).
deps:
	@missing=""; for p in $(SYSTEM_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

setup: deps build

test-deps:
	@$(MAKE) --no-print-directory deps SYSTEM_PKGS="$(TEST_PKGS)"

build:
	$(SWIFT) build -c $(CONFIG) --product vlsae

run: setup
	./scripts/main-job.sh $(VLSAE)

# The tests remove every file they write (VLSAETestSupport.TemporaryFolder). The toolchain does
# not: each `swift build` / `swift test` leaves TemporaryDirectory.* folders in $TMPDIR, empty or
# holding a `.keep-directory` marker (made by the swift-driver SwiftPM runs in-process and by its
# `swiftc -print-target-info` / `swiftc -h` children, which exec swift-frontend or swift-help
# before they can remove them), and lock files named after the build folder. So `make test` runs
# both with TMPDIR set to a fresh folder under .build, fails if the tests left anything else
# there, and removes the folder, pass or fail. The compiler also writes the expansions of our macros
# (@MemberwiseInit) there, as swift-generated-sources/@__swiftmacro_*.swift, for its diagnostics.
# Nothing of ours is left in /tmp (the browser test's short-lived profile folder is removed).
test: deps test-deps
	@mkdir -p .build; tmp=$$(mktemp -d "$(CURDIR)/.build/tmp-test.XXXXXX") || exit 1; \
	echo "TMPDIR=$$tmp"; \
	TMPDIR="$$tmp" $(SWIFT) build --build-tests && \
	TMPDIR="$$tmp" $(SWIFT) test --skip-build --disable-swift-testing; status=$$?; \
	left=$$(find "$$tmp" -mindepth 1 \( -path "$$tmp/TemporaryDirectory.*/*" ! -name .keep-directory -print \) \
	  -o \( ! -path "$$tmp/TemporaryDirectory.*" ! -path "$$tmp/*.lock" \
	         ! -path "$$tmp/swift-generated-sources" ! -path "$$tmp/swift-generated-sources/*" -print \)); \
	rm -rf "$$tmp"; \
	if [ -n "$$left" ]; then echo "error: the tests left files in their temporary directory:"; echo "$$left"; exit 1; fi; \
	exit $$status

bench: deps
	./scripts/bench.sh

# libFuzzer on every reader of untrusted files, FUZZ_SECONDS each (README, "Hostile input").
FUZZ_SECONDS ?= 60
fuzz: deps
	./scripts/fuzz.sh $(FUZZ_SECONDS)

# Style: swift-format with the checked-in .swift-format (the toolchain's own swift-format).
LINT_PATHS = Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Benchmarks
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(LINT_PATHS)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(LINT_PATHS)

# DocC archives of every library module in .build-docs/docs (warnings fail).
docs: deps
	./scripts/docs.sh

clean:
	rm -rf .build .build-docs Benchmarks/.build Tests/Fuzz/.build

# The exporter's Python environment (Datasets/export/requirements.txt, pinned) in .venv-export. Reinstalled
# only when the requirements file changed (a copy is kept inside the venv). See the README, "From an image
# folder to a paper table".
EXPORT_VENV ?= .venv-export
.PHONY: export-setup test-export
export-setup:
	@if [ -x $(EXPORT_VENV)/bin/python ] && cmp -s Datasets/export/requirements.txt $(EXPORT_VENV)/requirements.txt; then \
	  echo "$(EXPORT_VENV) is up to date"; \
	else \
	  rm -rf $(EXPORT_VENV) && python3 -m venv $(EXPORT_VENV) && \
	  $(EXPORT_VENV)/bin/pip install --quiet -r Datasets/export/requirements.txt && \
	  cp Datasets/export/requirements.txt $(EXPORT_VENV)/requirements.txt; \
	fi

# The exporter end to end (ExporterTests): open_clip ViT-B-32 with random weights on a generated image folder,
# checked against open_clip called directly, then read by `vlsae eval`. Not part of `make test`: the set-up
# downloads about 1.5 GB and takes 4-6 minutes here.
test-export: export-setup
	@mkdir -p .build; tmp=$$(mktemp -d "$(CURDIR)/.build/tmp-test.XXXXXX") || exit 1; \
	TMPDIR="$$tmp" $(SWIFT) build --build-tests && \
	VLSAE_TEST_EXPORT=1 TMPDIR="$$tmp" $(SWIFT) test --skip-build --disable-swift-testing --filter ExporterTests; \
	status=$$?; rm -rf "$$tmp"; exit $$status
