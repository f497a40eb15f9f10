# The two commands of the README: `make demo` (install, fetch the model, run a sample on
# it) and `make test` (install, fetch the model, run the tests). Both are idempotent.
SWIFT ?= swift
MODEL ?= models/smollm2-135m

.PHONY: demo test setup model build release test-asan bench clean

setup:
	Scripts/setup

model: setup
	Scripts/fetch-model $(MODEL)

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product nsi

demo: model release
	@echo "== nsi run Samples/logit_lens.nsi: at which layer does SmolLM2-135M know the answer?"
	$$($(SWIFT) build -c release --show-bin-path)/nsi run --model $(MODEL) --out results/logit_lens.safetensors Samples/logit_lens.nsi
	@echo "== nsi run Samples/steering.nsi: a contrastive steering vector during generation"
	$$($(SWIFT) build -c release --show-bin-path)/nsi run --model $(MODEL) --out results/steering.safetensors Samples/steering.nsi

test: model
	$(SWIFT) test

# Once per change to unsafe code: the whole suite under AddressSanitizer.
test-asan: model
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp $(SWIFT) test --sanitize=address --scratch-path .build-asan

bench: model
	Benchmarks/run-runtime

clean:
	rm -rf .build .build-asan
