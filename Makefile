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
	@echo "== nsi logits: the next token after a prompt, on SmolLM2-135M"
	$$($(SWIFT) build -c release --show-bin-path)/nsi logits --model $(MODEL) -k 5 "The Eiffel Tower is located in the city of"
	@echo "== nsi generate: greedy continuation"
	$$($(SWIFT) build -c release --show-bin-path)/nsi generate --model $(MODEL) --max-tokens 24 "The capital of France is"

test: model
	$(SWIFT) test

# Once per change to unsafe code: the whole suite under AddressSanitizer.
test-asan: model
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp $(SWIFT) test --sanitize=address --scratch-path .build-asan

bench: model
	Benchmarks/run-runtime

clean:
	rm -rf .build .build-asan
