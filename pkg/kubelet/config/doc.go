// Package config implements the kubelet's pod configuration: static pods
// read from a manifest directory (file.go), their defaults and identity
// (common.go), and the mirror pods that show them in the apiserver
// (mirror.go).
package config
