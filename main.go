// Command terraform-provider-ionroller is the ionroller Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/ionroller/terraform-provider-ionroller/provider"
)

// version is set by goreleaser at release time (-X main.version=...).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	if !debug {
		quietSDKLogs()
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/ionroller/ionroller",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// quietSDKLogs turns the plugin SDK's own logging off when no TF_LOG
// variable asks for logs. The SDK formats a trace line for every attribute
// it validates, defaults and plans, and terraform, logging nothing, throws
// them away: a third of a plan's time with 200 endpoints (BenchmarkTerraform).
// With any TF_LOG variable set, everything is logged as usual.
func quietSDKLogs() {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_LOG") {
			return
		}
	}
	os.Setenv("TF_LOG_SDK", "OFF")
}
