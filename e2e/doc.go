//go:build e2e

// Package e2e holds end-to-end tests against real Docker containers. Every
// file carries the e2e build tag; run them with `make e2e` (or `make test`),
// which first makes sure a Docker engine answers.
package e2e
