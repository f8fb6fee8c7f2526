// Command network creates, in a moto server, what the demo's endpoint runs
// behind: a VPC with two subnets, a security group, an internet-facing ALB
// with an HTTP listener, an Amazon AMI, as the tests do (awstest), and an ECS
// cluster for the demo on ecs (make demo BACKEND=ecs). It prints them as a Terraform
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

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

// cluster is the ECS cluster of the demo on ecs.
const cluster = "ionroller-demo"

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
	if _, err := ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return fmt.Errorf("create cluster %s: %w", cluster, err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(network{ListenerARN: n.ListenerARN, Subnets: n.Subnets, SecurityGroup: n.SecurityGroup, AMI: n.AMI, Cluster: cluster})
}
