package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of /v1, written by hand. Every API
// test checks its requests and answers against it (package openapitest),
// which keeps it true.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 description of the API's /v1 routes.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI) // a failed write means the caller left
}
