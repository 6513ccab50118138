# The two commands of the README: `make demo` and `make test`. Both install what is
# missing (scripts/install-deps.sh), then build with CMake.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# A quiet build: no "Entering/Leaving directory" from the make that CMake runs, and no
# line per compiled file (V=1 shows them). Errors and warnings still print.
MAKEFLAGS += --no-print-directory
RULE_MESSAGES = $(if $(V),ON,OFF)
BUILD ?= build
SAN_BUILD ?= build-san

.PHONY: all deps build demo test test-fast sanitize bench format clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@echo "build: compiling in $(BUILD)/"
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_RULE_MESSAGES=$(RULE_MESSAGES) \
		-DCMAKE_TARGET_MESSAGES=$(RULE_MESSAGES) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@rm -rf examples/.sweep
	cd examples && ../$(BUILD)/sweep run quickstart.yaml
	cd examples && ../$(BUILD)/sweep status quickstart
	cd examples && ../$(BUILD)/sweep run dla-demo.yaml
	cd examples && ../$(BUILD)/sweep aggregate dla-demo --by n_particles --metrics rg,df
	@# The scaling across the sweep: rg ~ N^(1/df), fitted over the mean rg per size.
	cd examples && ../$(BUILD)/sweep aggregate dla-demo --by n_particles --metrics rg \
		--fit power --format json >dla-demo-fit.json
	@cd examples && df=$$(jq -r '.fits[0] | "df = 1/exponent = \(1000 / .exponent | round / 1000)" + \
		" ± \(1000 * .exponent_stderr / .exponent / .exponent | round / 1000) (literature: 1.71)"' \
		dla-demo-fit.json) && echo "2D DLA, from rg against n_particles: $$df" && \
		../$(BUILD)/sweep plot dla-demo --x n_particles --y rg --fit power \
		--ylabel "rg: radius of gyration (particle radii)" \
		--title "2D DLA: rg against N, $$df" -o dla-demo-rg.png
	cd examples && ../$(BUILD)/sweep plot dla-demo --x n_particles --y df --logx \
		--title "2D DLA: each cluster's own df (a fit inside one cluster; mean, stderr)" \
		-o dla-demo-df.png
	@echo "Pictures: examples/dla-demo-rg.png, examples/dla-demo-df.png;" \
		"results: sweep results dla-demo (in examples/)"

# Every test: the normal build (unit + end-to-end), then the same tests and the spec
# fuzzer under ASan+UBSan (clang).
test: build sanitize
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	@echo "build: compiling with the sanitizers in $(SAN_BUILD)/"
	@CC=clang cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSWEEP_SANITIZE=ON \
		-DSWEEP_FUZZ=ON -DCMAKE_RULE_MESSAGES=$(RULE_MESSAGES) \
		-DCMAKE_TARGET_MESSAGES=$(RULE_MESSAGES) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)

# Only the normal build's tests (quick loop while developing).
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	./bench/throughput.sh
	./bench/navier-stokes.sh
	./bench/dla.sh
	./bench/pipeline.sh
	./bench/serve-load.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c')

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
