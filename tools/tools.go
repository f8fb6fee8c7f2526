//go:build generate

// Package tools pins the code generators in go.mod and runs them: `go generate ./...` in this directory
// (or `make generate` at the top) formats the examples and regenerates docs/ from the provider schema.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)

// Format the Terraform examples the docs embed.
//go:generate terraform fmt -recursive ../examples/

// Generate docs/ from the provider schema, templates/ and examples/.
//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name ionroller
