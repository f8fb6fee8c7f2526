//go:build generate

// Package tools pins the code generators in go.mod and runs them: `go generate ./...` in this directory
// (or `make generate` at the top) formats the examples, writes the reference guides read from the shifter's
// code, and regenerates docs/ from the provider schema.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)

// Format the Terraform examples the docs embed.
//go:generate terraform fmt -recursive ../examples/

// The shifter's IAM policy for the inputs of the data source's example, which the IAM guide shows.
//go:generate go run ./iampolicy -shifter-id prod -region eu-west-1 -account 123456789012 -table-arn arn:aws:dynamodb:eu-west-1:123456789012:table/ionroller -instance-role-arn arn:aws:iam::123456789012:role/payments-api -topic-arn arn:aws:sns:eu-west-1:123456789012:rollouts -o ../examples/guides/shifter-iam-policy.json

// Generate the reference guides read from the shifter's code (its metrics and its configuration file)
// as templates, before tfplugindocs renders every template.
//go:generate go run ./refdocs -daemon ../shifter/daemon -out ../templates/guides

// Generate docs/ from the provider schema, templates/ and examples/.
//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name ionroller
