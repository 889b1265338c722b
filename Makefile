# Thin wrapper over CMake. `make demo` and `make test` set the machine up first (idempotent).
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR ?= $(CURDIR)/.cache/ccache

.PHONY: all setup configure build test demo clean

all: build

setup:
	bash scripts/setup.sh

# A new build directory uses Ninja: it compiles the objects of every target in parallel, where
# Make builds target after target and leaves a core idle while one long kernel source compiles
# (docs/install.md "Build times"). An existing directory keeps the generator it was made with.
GENERATOR := $(if $(wildcard $(BUILD)/CMakeCache.txt),,$(if $(shell command -v ninja),-G Ninja))

configure:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DRT3_BUILD_TESTS=ON $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: setup
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900

# The demo needs only the rt3 tool: the test binaries (a third of the objects, the LibTorch ones
# among the slowest to compile) are left to `make test`.
demo: setup configure
	cmake --build $(BUILD) -j$(JOBS) --target rt3
	./$(BUILD)/rt3 demo --out runs/demo --resume

clean:
	rm -rf $(BUILD)
