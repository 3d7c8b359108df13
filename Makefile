# The README's commands. Everything the project needs is installed by scripts/install-deps.
.PHONY: all build deps run test unit api-test e2e-test load-smoke promtool-test bench load-test clean format

JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
PYTHON ?= /usr/bin/python3

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) --target scenepacker

## make run: build, create the database with a first admin account, serve on 127.0.0.1:5000
run: build
	./$(BUILD)/scenepacker serve

$(ASAN_BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSP_SANITIZE=ON >/dev/null

## make test: everything, with warnings as errors and ASan+UBSan
test:
	@scripts/install-deps test
	@scripts/run-tests

unit: $(ASAN_BUILD)/Makefile
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/install-deps load
	@scripts/bench

## make load-test SCENARIO=normal|high|max|spike|capacity [DURATION=...] [RELEASES=...] [CLIENT=fast|requests]
load-test: build
	@scripts/install-deps load
	@scripts/load-test $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(DURATION),--duration $(DURATION)) $(if $(RELEASES),--releases $(RELEASES)) $(if $(USERS),--users $(USERS)) $(if $(LOCUST_WORKERS),--locust-workers $(LOCUST_WORKERS)) $(if $(CLIENT),--client $(CLIENT))

format:
	@clang-format -i $$(find src tests/unit -name '*.[ch]')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-* reports/.tmp
