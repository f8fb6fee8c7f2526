// Command network creates, in a moto server, what the demo's endpoint runs
// behind: a VPC with two subnets, a security group, an internet-facing ALB
// with an HTTP listener, and an Amazon AMI. It prints them as a Terraform
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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
)

// network is the demo configuration's variables.
type network struct {
	ListenerARN   string   `json:"listener_arn"`
	Subnets       []string `json:"subnets"`
	SecurityGroup string   `json:"security_group"`
	AMI           string   `json:"ami"`
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
	n, err := create(ctx, ec2.NewFromConfig(cfg), elb.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(n)
}

func create(ctx context.Context, ec2c *ec2.Client, elbc *elb.Client) (network, error) {
	var n network
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return n, fmt.Errorf("create vpc: %w", err)
	}
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:            vpc.Vpc.VpcId,
			CidrBlock:        aws.String(fmt.Sprintf("10.0.%d.0/24", i+1)),
			AvailabilityZone: aws.String(az),
		})
		if err != nil {
			return n, fmt.Errorf("create subnet in %s: %w", az, err)
		}
		n.Subnets = append(n.Subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String("ionroller-demo"),
		Description: aws.String("ionroller demo endpoint"),
		VpcId:       vpc.Vpc.VpcId,
	})
	if err != nil {
		return n, fmt.Errorf("create security group: %w", err)
	}
	n.SecurityGroup = aws.ToString(sg.GroupId)

	lb, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name:           aws.String("ionroller-demo"),
		Subnets:        n.Subnets,
		SecurityGroups: []string{n.SecurityGroup},
		Scheme:         elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Type:           elbtypes.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return n, fmt.Errorf("create load balancer: %w", err)
	}
	ls, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn,
		Protocol:        elbtypes.ProtocolEnumHttp,
		Port:            aws.Int32(80),
		DefaultActions: []elbtypes.Action{{
			Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
				StatusCode:  aws.String("404"),
				ContentType: aws.String("text/plain"),
				MessageBody: aws.String("no route"),
			},
		}},
	})
	if err != nil {
		return n, fmt.Errorf("create listener: %w", err)
	}
	n.ListenerARN = aws.ToString(ls.Listeners[0].ListenerArn)

	// One of moto's built-in Amazon images; asking for all of them takes
	// seconds, so ask for one first.
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-03cf127a"}})
	if err != nil || len(images.Images) == 0 {
		images, err = ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	}
	if err != nil {
		return n, fmt.Errorf("describe images: %w", err)
	}
	if len(images.Images) == 0 {
		return n, fmt.Errorf("moto has no Amazon image")
	}
	n.AMI = aws.ToString(images.Images[0].ImageId)
	return n, nil
}
