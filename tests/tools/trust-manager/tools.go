//go:build tools

// Package tools pins the trust-manager command for `go mod tidy`.
package tools

import _ "github.com/cert-manager/trust-manager/cmd/trust-manager"
