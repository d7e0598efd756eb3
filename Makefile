# awsssm: build, test and demo the AWS Systems Manager SOAR connector.
# Everything runs against the local sandbox on loopback; nothing here
# needs an AWS account.

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test vet demo bench docs clean

all: build

## build: the connector and the sandbox, into bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/awsssm ./cmd/awsssm
	$(GO) build -trimpath -o $(BIN)/awsssm-sandbox ./cmd/awsssm-sandbox

## vet: static checks
vet:
	$(GO) vet ./...

## test: every unit and end-to-end test (the end-to-end tests build the binaries themselves)
test: vet
	$(GO) test -count=1 ./...

## demo: build, start the sandbox, run real commands and fetch a file into the vault
demo: build
	./scripts/demo.sh

## docs: regenerate the README's action reference from app.json
docs:
	$(GO) run ./internal/appdoc/gen README.md

## bench: speed and memory benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN) .demo
