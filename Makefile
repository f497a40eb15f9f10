# The two commands of the README: `make demo` (install, fetch the model, run a sample on
# it) and `make test` (install, fetch the model, run the tests). Both are idempotent.
SWIFT ?= swift
MODEL ?= models/smollm2-135m

.PHONY: demo test setup model build release wheel test-python fuzz test-asan test-asan-c hosts bench clean

setup:
	Scripts/setup

model: setup
	Scripts/fetch-model $(MODEL)

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product nsi

# The Python package (python/) as a wheel in dist/, with libnsic.so and the Swift runtime
# libraries it needs inside: it installs with pip on a machine without Swift.
wheel: setup
	Scripts/build-wheel

# The wheel installed into a fresh virtual environment and python/tests run there
# (every sample against `nsi run`, errors, threads, Ctrl-C, a real `nsi serve`, plots,
# the example notebook executed headless).
test-python: model
	$(SWIFT) build --product nsi
	Scripts/test-python

demo: model release
	@echo "== nsi run Samples/logit_lens.nsi: at which layer does SmolLM2-135M know the answer?"
	$$($(SWIFT) build -c release --show-bin-path)/nsi run --model $(MODEL) --out results/logit_lens.safetensors Samples/logit_lens.nsi
	@echo "== nsi run Samples/steering.nsi: a contrastive steering vector during generation"
	$$($(SWIFT) build -c release --show-bin-path)/nsi run --model $(MODEL) --out results/steering.safetensors Samples/steering.nsi

# Setup installed PostgreSQL, numpy and rsvg-convert: the tests that need them fail here
# rather than skip (NSI_TEST_REQUIRE), so CI runs everything the suite claims.
# The editor grammar's check installs its TextMate engine from PyPI into .build; the
# Python package's tests install the wheel, pytest, matplotlib and Jupyter's runner there,
# and torch once into .build/python-test-torch (about 3 GB from PyPI, kept between runs).
# The C ABI under AddressSanitizer (test-asan-c) runs every time: a few minutes on a
# fresh clone, about one once its build folder exists.
test: model
	$(SWIFT) build
	NSI_TEST_REQUIRE=numpy,postgresql,rsvg $(SWIFT) test
	Scripts/check-editors
	Scripts/test-python
	Scripts/fuzz 60
	$(MAKE) test-asan-c

# Coverage-guided fuzzing of the plan reader, verifier and VM (libFuzzer, with
# AddressSanitizer) from the corpus in Tests/Fuzz/corpus: 60 s in every `make test`,
# FUZZ_SECONDS here. A crash is a failure; inputs it found are in .build-fuzz/crashes.
FUZZ_SECONDS ?= 1800
fuzz: model
	Scripts/fuzz $(FUZZ_SECONDS)

# Once per change to unsafe code (too long for every CI run: the whole suite, built
# again with the sanitizer): the whole suite under AddressSanitizer.
test-asan: model
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp $(SWIFT) test --sanitize=address --scratch-path .build-asan

# Once per change to the C ABI: libnsic.so built with AddressSanitizer, the C host and
# the ABI check built with -fsanitize=address (clang, the runtime Swift's sanitizer
# uses) and run on the model with LeakSanitizer. Any leak or invalid access fails it.
ASAN_C = .build-asan-c
test-asan-c: model
	$(SWIFT) build --sanitize=address --scratch-path $(ASAN_C) --product nsic
	bin=$$($(SWIFT) build --sanitize=address --scratch-path $(ASAN_C) --show-bin-path) && \
	for c in Samples/hosts/host.c Tests/NSIHostTests/abi_check.c; do \
	  clang -std=c11 -g -fsanitize=address -fno-omit-frame-pointer -I Sources/NSIC/include $$c \
	    -L $$bin -lnsic -Wl,-rpath,$$bin -lpthread -o $(ASAN_C)/$$(basename $$c .c) || exit 1; done
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_C)/host $(MODEL) Samples/logit_lens.nsi '{"prompt": "The capital of France is"}'
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_C)/abi_check $(MODEL)

# The example hosts of Samples/hosts, built against libnsic.so and run on the model.
hosts: model
	$(MAKE) -C Samples/hosts run SWIFT=$(SWIFT)

# Needs a Python with torch and transformers (and nnsight for run-vm): PYTHON=...
bench: model
	Benchmarks/run-runtime
	Benchmarks/run-vm

clean:
	rm -rf .build .build-asan .build-asan-c .build-fuzz dist
	rm -f Samples/hosts/host
