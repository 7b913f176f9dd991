//go:build tools

// Package tools pins the helm command for `go mod tidy`.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
