# VLSAE Bench — `make run` (the main job on the embedded default suite) and `make test`.
SWIFT      ?= swift
CONFIG     ?= release
SYSTEM_PKGS = libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev
# For the tests only: headless Chromium loads the page `vlsae concepts` writes (ConceptsOutputTests).
TEST_PKGS   = chromium
VLSAE       = .build/$(CONFIG)/vlsae

.PHONY: all setup deps test-deps build run test bench lint format docs clean

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
# there, and removes the folder, pass or fail. Nothing of ours is written to /tmp.
test: deps test-deps
	@mkdir -p .build; tmp=$$(mktemp -d "$(CURDIR)/.build/tmp-test.XXXXXX") || exit 1; \
	echo "TMPDIR=$$tmp"; \
	TMPDIR="$$tmp" $(SWIFT) build --build-tests && \
	TMPDIR="$$tmp" $(SWIFT) test --skip-build --disable-swift-testing; status=$$?; \
	left=$$(find "$$tmp" -mindepth 1 \( -path "$$tmp/TemporaryDirectory.*/*" ! -name .keep-directory -print \) \
	  -o \( ! -path "$$tmp/TemporaryDirectory.*" ! -path "$$tmp/*.lock" -print \)); \
	rm -rf "$$tmp"; \
	if [ -n "$$left" ]; then echo "error: the tests left files in their temporary directory:"; echo "$$left"; exit 1; fi; \
	exit $$status

bench: deps
	./scripts/bench.sh

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
	rm -rf .build .build-docs Benchmarks/.build
