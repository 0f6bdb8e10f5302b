# kinc: Kubernetes in containers. `make help` lists the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

# ---- Environment ------------------------------------------------------------
REPO_ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BIN_DIR    := $(REPO_ROOT)/bin
GO         ?= go
GIT_COMMIT ?= $(shell git -C $(REPO_ROOT) rev-parse HEAD 2>/dev/null)
LDFLAGS    := -s -w -buildid= -X github.com/kinc-dev/kinc/pkg/version.gitCommit=$(GIT_COMMIT)
export CGO_ENABLED := 0
# Per-package timeout for the test targets; e2e creates real clusters.
TEST_TIMEOUT ?= 20m
CLUSTER_NAME ?= kinc
# E2E packages run one at a time (-p 1): each starts node containers, and on
# 2 cores parallel clusters mostly measure contention. -count=1: their
# results depend on the node image, which go test's cache cannot see.
E2E_FLAGS  := -p 1 -count=1 -tags e2e -timeout $(TEST_TIMEOUT)
# Prefix of a recipe line whose tests run kubectl: KINC_KUBECTL names the one
# to use (a 1.27-1.33 on the PATH, else a pinned one built into bin/kubectl),
# so that no test depends on the kubectl that happens to be installed; the
# oldest and newest supported (bin/kubectl.1.27, bin/kubectl.1.33) are built
# too for the tests that run every version.
WITH_KUBECTL := kubectl=$$(hack/ensure-kubectl.sh) && hack/ensure-kubectl.sh --skew && KINC_KUBECTL="$$kubectl"

# ---- Building ---------------------------------------------------------------
.PHONY: build
build: ## build: every binary (kinc, etcd, …) into bin/, static, CGO_ENABLED=0
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN_DIR)/ ./cmd/...

.PHONY: generate
generate: ## generate: regenerate committed generated code (OpenAPI definitions)
	hack/update-openapi.sh

.PHONY: node-image
node-image: build ## node-image: build the kinc node image (Debian rootfs, containerd, our binaries)
	hack/ensure-docker.sh
	hack/ensure-debootstrap.sh
	$(BIN_DIR)/kinc build node-image --bin-dir $(BIN_DIR)

.PHONY: cluster
# A kubectl comes with it: a 1.27-1.33 on the PATH, else a pinned one built
# into bin/kubectl (hack/ensure-kubectl.sh), so nothing is installed by hand.
cluster: node-image ## cluster: build everything, start Docker if needed, create a cluster and say how to use it
	kubectl=$$(hack/ensure-kubectl.sh); \
	if $(BIN_DIR)/kinc get clusters | grep -qx '$(CLUSTER_NAME)'; then \
		echo "cluster $(CLUSTER_NAME) already exists (bin/kinc delete cluster --name $(CLUSTER_NAME) to start over)"; \
	else \
		$(BIN_DIR)/kinc create cluster --name $(CLUSTER_NAME) --wait 2m; \
	fi; \
	"$$kubectl" --context kinc-$(CLUSTER_NAME) get nodes; \
	echo; echo "kubectl: $$kubectl (e.g. $$kubectl --context kinc-$(CLUSTER_NAME) get pods -A)"

# ---- Testing ----------------------------------------------------------------
.PHONY: unit
unit: ## unit: hermetic unit tests (go test -short ./...)
	hack/test.sh -short ./...

.PHONY: integration
integration: build ## integration: tests that start real processes (etcd, apiserver, containerd, kubectl)
	hack/ensure-test-deps.sh
	$(WITH_KUBECTL) hack/test.sh -run 'Integration' ./...

.PHONY: e2e
e2e: node-image ## e2e: end-to-end tests against real Docker containers (starts Docker, builds the node image once)
	$(WITH_KUBECTL) hack/test.sh $(E2E_FLAGS) ./e2e/...

.PHONY: test
# One hack/test.sh call for both runs: bin/test-results.json holds the whole
# run and the closing summary counts all of it.
test: node-image ## test: the full suite (unit, integration and e2e); starts Docker and builds the node image first
	hack/ensure-test-deps.sh
	$(WITH_KUBECTL) hack/test.sh -timeout $(TEST_TIMEOUT) ./... --- $(E2E_FLAGS) ./e2e/...

.PHONY: bench
bench: build ## bench: benchmarks, printed as a table of ratios against same-run baselines
	$(WITH_KUBECTL) hack/bench.sh

# ---- Conformance ------------------------------------------------------------
# The upstream conformance suite, offline (not in CI: hours, and a 15-40 min
# first compile of e2e.test). FOCUS/SKIP: ginkgo regexes narrowing the
# [Conformance] specs, e.g. make conformance FOCUS='\[sig-api-machinery\]';
# PARALLEL: ginkgo processes; CONFORMANCE_CLUSTER: the cluster, created with 1
# control plane and 2 workers when missing. Results land in bin/conformance/.
FOCUS ?=
SKIP ?=
PARALLEL ?= 1
CONFORMANCE_CLUSTER ?= conformance

.PHONY: conformance
conformance: node-image ## conformance: the upstream conformance suite against a 1+2-node cluster, offline (FOCUS=, SKIP=, PARALLEL=)
	$(BIN_DIR)/kinc conformance --name '$(CONFORMANCE_CLUSTER)' --focus '$(FOCUS)' --skip '$(SKIP)' \
		--parallel '$(PARALLEL)' --bin-dir '$(BIN_DIR)' --report-dir '$(BIN_DIR)/conformance'

# ---- Verification -----------------------------------------------------------
.PHONY: verify
verify: ## verify: gofmt and go vet (incl. e2e files)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

# ---- Cleanup ----------------------------------------------------------------
.PHONY: clean
clean: ## clean: remove bin/ and test caches
	rm -rf $(BIN_DIR)
	$(GO) clean -testcache

.PHONY: help
help: ## help: list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^[a-z0-9-]+:.*## //' | \
		awk -F': ' '{printf "  %-12s %s\n", $$1, $$2}'
