# Quarry: `make run` builds, indexes Corpus/ and serves it; `make test` runs every test.
SWIFT    ?= swift
INDEX    ?= .quarry/index
SOCKET   ?= .quarry/quarry.sock
QUERY    ?= diplomacy

.PHONY: deps build run test bench-quick clean

# Installs Xapian's development package only where it is missing.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists xapian-core; then \
		echo "installing libxapian-dev"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libxapian-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build -c release --product quarry

run: build
	@mkdir -p $(dir $(INDEX))
	.build/release/quarry index Corpus --index $(INDEX)
	.build/release/quarry search "$(QUERY)" --index $(INDEX) --limit 3
	.build/release/quarry serve --index $(INDEX) --socket $(SOCKET)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build .quarry
