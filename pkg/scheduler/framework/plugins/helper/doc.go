// Package helper holds the matching rules several scheduler plugins share:
// node selectors and required node affinity, and taints against tolerations.
package helper
