//go:build tools

// Package tools pins krew's validate-krew-manifest command for `go mod tidy`.
package tools

import _ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
