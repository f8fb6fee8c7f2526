package awstest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Net is what an endpoint needs to exist in an account: the network its
// environments run in and the listener its traffic arrives on. In production
// the user's Terraform owns all of it.
type Net struct {
	VPC             string
	Subnets         []string // in two availability zones
	SecurityGroup   string
	LoadBalancerARN string // internet-facing ALB
	ListenerARN     string // HTTP :80, default action a fixed 404
	AMI             string // one of moto's built-in Amazon images
}

// preferredAMI is a built-in moto image; any Amazon image will do if a moto
// release drops it.
const preferredAMI = "ami-03cf127a"

// Network creates a Net in the account cfg reaches and fails the test if any
// part cannot be created.
func Network(t testing.TB, cfg aws.Config) Net {
	t.Helper()
	n, err := CreateNetwork(t.Context(), cfg, "ionroller-test")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// CreateNetwork creates a Net in the account cfg reaches, its security group
// and load balancer called name. The demo creates its network with it too.
func CreateNetwork(ctx context.Context, cfg aws.Config, name string) (Net, error) {
	cfg = Exempt(cfg) // a test's setup, not the code under test
	ec2c := ec2.NewFromConfig(cfg)
	elbc := elb.NewFromConfig(cfg)
	var n Net

	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return n, fmt.Errorf("create vpc: %w", err)
	}
	n.VPC = aws.ToString(vpc.Vpc.VpcId)

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
		GroupName:   aws.String(name),
		Description: aws.String("ionroller endpoint"),
		VpcId:       vpc.Vpc.VpcId,
	})
	if err != nil {
		return n, fmt.Errorf("create security group: %w", err)
	}
	n.SecurityGroup = aws.ToString(sg.GroupId)

	lb, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name:           aws.String(name),
		Subnets:        n.Subnets,
		SecurityGroups: []string{n.SecurityGroup},
		Scheme:         elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Type:           elbtypes.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return n, fmt.Errorf("create load balancer: %w", err)
	}
	n.LoadBalancerARN = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)

	ls, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(n.LoadBalancerARN),
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
		return n, fmt.Errorf("create listener on %s: %w", n.LoadBalancerARN, err)
	}
	n.ListenerARN = aws.ToString(ls.Listeners[0].ListenerArn)

	n.AMI, err = builtinAMI(ctx, ec2c)
	return n, err
}

// builtinAMI returns preferredAMI, or any Amazon image if moto lacks it.
// Asking for one image by ID matters: listing all of moto's Amazon images
// takes seconds.
func builtinAMI(ctx context.Context, ec2c *ec2.Client) (string, error) {
	out, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{preferredAMI}})
	if err == nil && len(out.Images) == 1 {
		return preferredAMI, nil
	}
	out, err = ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil {
		return "", fmt.Errorf("describe amazon images: %w", err)
	}
	if len(out.Images) == 0 {
		return "", errors.New("moto has no built-in amazon images")
	}
	return aws.ToString(out.Images[0].ImageId), nil
}
