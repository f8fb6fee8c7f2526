// Command network creates, in a moto server, what the demo's endpoint runs
// behind: a VPC with two subnets, a security group, an internet-facing ALB
// with an HTTP listener, an Amazon AMI and an ECS cluster (for make demo
// BACKEND=ecs), as the tests do (awstest). It prints them as a Terraform
// variables file (JSON). In a real account your own Terraform (the aws
// provider) owns all of this; the demo runs offline, where the aws provider
// cannot be downloaded.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// network is the demo configuration's variables.
type network struct {
	ListenerARN   string   `json:"listener_arn"`
	Subnets       []string `json:"subnets"`
	SecurityGroup string   `json:"security_group"`
	AMI           string   `json:"ami"`
	Cluster       string   `json:"cluster"`
}

func main() {
	endpoint := flag.String("endpoint", "", "base URL of the moto server")
	flag.Parse()
	if err := run(context.Background(), *endpoint); err != nil {
		fmt.Fprintln(os.Stderr, "network:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint string) error {
	if endpoint == "" {
		return fmt.Errorf("-endpoint is required")
	}
	cfg, err := shifteraws.Load(ctx, shifteraws.Config{Region: "us-east-1", Endpoint: endpoint, RetryMaxAttempts: 1})
	if err != nil {
		return err
	}
	n, err := awstest.CreateNetwork(ctx, cfg, "ionroller-demo")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(network{ListenerARN: n.ListenerARN, Subnets: n.Subnets, SecurityGroup: n.SecurityGroup, AMI: n.AMI, Cluster: n.Cluster})
}
