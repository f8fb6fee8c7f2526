package awstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
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
	// NLBARN is a Network Load Balancer, only in a NetworkWithNLB. It has
	// one listener of the user's, UserNLBListenerARN (TCP :7000,
	// forwarding to UserTargetGroupARN, an empty TCP target group), and
	// NLBPort free for an endpoint's listener, which the shifter creates.
	NLBARN             string
	NLBPort            int
	UserNLBListenerARN string
	UserTargetGroupARN string
	// SlotListenerARNs are HTTP :80 listeners, each of an ALB of its own,
	// answering 503, and HostedZoneID a Route 53 zone for example.test:
	// only in a NetworkWithSlots.
	SlotListenerARNs []string
	HostedZoneID     string
	// CertificateARNs are ACM certificates a TLS listener may name: only
	// once AddCertificates has added them.
	CertificateARNs []string
	AMI             string // one of moto's built-in Amazon images
	Cluster         string // Cluster, for endpoints on ecs
}

// Cluster is the ECS cluster of every Net.
const Cluster = "apps"

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

// NetworkWithNLB is a Network with a Network Load Balancer besides.
func NetworkWithNLB(t testing.TB, cfg aws.Config) Net {
	t.Helper()
	n := Network(t, cfg)
	AddNLB(t, cfg, &n)
	return n
}

// AddNLB adds a Network Load Balancer and a listener of the user's on it to
// n.
func AddNLB(t testing.TB, cfg aws.Config, n *Net) {
	t.Helper()
	if err := createNLB(t.Context(), elb.NewFromConfig(Exempt(cfg)), n, "ionroller-test"); err != nil {
		t.Fatal(err)
	}
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

	n.LoadBalancerARN, n.ListenerARN, err = createALB(ctx, elbc, n, name, fixedResponse("404", "no route"))
	if err != nil {
		return n, err
	}

	n.Cluster = Cluster
	if _, err := ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(n.Cluster)}); err != nil {
		return n, fmt.Errorf("create cluster %s: %w", n.Cluster, err)
	}
	n.AMI, err = builtinAMI(ctx, ec2c)
	return n, err
}

// createALB creates an internet-facing Application Load Balancer called
// name in n's subnets and an HTTP :80 listener of it with action.
func createALB(ctx context.Context, elbc *elb.Client, n Net, name string, action elbtypes.Action) (lb, listener string, err error) {
	out, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name:           aws.String(name),
		Subnets:        n.Subnets,
		SecurityGroups: []string{n.SecurityGroup},
		Scheme:         elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Type:           elbtypes.LoadBalancerTypeEnumApplication,
	})
	if err != nil {
		return "", "", fmt.Errorf("create load balancer %s: %w", name, err)
	}
	lb = aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	ls, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lb),
		Protocol:        elbtypes.ProtocolEnumHttp,
		Port:            aws.Int32(80),
		DefaultActions:  []elbtypes.Action{action},
	})
	if err != nil {
		return "", "", fmt.Errorf("create listener on %s: %w", lb, err)
	}
	return lb, aws.ToString(ls.Listeners[0].ListenerArn), nil
}

func fixedResponse(status, body string) elbtypes.Action {
	return elbtypes.Action{
		Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String(status), ContentType: aws.String("text/plain"), MessageBody: aws.String(body),
		},
	}
}

// NetworkWithSlots is a Network with Route 53 slots besides: four ALBs of
// their own, and a hosted zone.
func NetworkWithSlots(t testing.TB, cfg aws.Config) Net {
	t.Helper()
	n := Network(t, cfg)
	AddSlots(t, cfg, &n)
	return n
}

// AddSlots adds Route 53 slots to n: four ALBs of their own, and a hosted
// zone.
func AddSlots(t testing.TB, cfg aws.Config, n *Net) {
	t.Helper()
	cfg = Exempt(cfg)
	elbc := elb.NewFromConfig(cfg)
	for i := range 4 {
		_, listener, err := createALB(t.Context(), elbc, *n, fmt.Sprintf("ionroller-slot-%d", i), fixedResponse("503", "no version"))
		if err != nil {
			t.Fatal(err)
		}
		n.SlotListenerARNs = append(n.SlotListenerARNs, listener)
	}
	zone, err := route53.NewFromConfig(cfg).CreateHostedZone(t.Context(), &route53.CreateHostedZoneInput{
		Name: aws.String("example.test"), CallerReference: aws.String(t.Name()),
	})
	if err != nil {
		t.Fatal(err)
	}
	// "/hostedzone/Z…": the ID is the last part.
	id := aws.ToString(zone.HostedZone.Id)
	n.HostedZoneID = id[strings.LastIndexByte(id, '/')+1:]
}

// NLBPort is the port of a Net's Network Load Balancer an endpoint takes.
const NLBPort = 7001

// createNLB creates the Network Load Balancer of n, and a listener of the
// user's on it forwarding to a target group of the user's.
func createNLB(ctx context.Context, elbc *elb.Client, n *Net, name string) error {
	lb, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name:    aws.String(name + "-nlb"),
		Subnets: n.Subnets,
		Scheme:  elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Type:    elbtypes.LoadBalancerTypeEnumNetwork,
	})
	if err != nil {
		return fmt.Errorf("create network load balancer: %w", err)
	}
	n.NLBARN, n.NLBPort = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), NLBPort
	tg, err := elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name:     aws.String(name + "-user"),
		Protocol: elbtypes.ProtocolEnumTcp,
		Port:     aws.Int32(7000),
		VpcId:    aws.String(n.VPC),
	})
	if err != nil {
		return fmt.Errorf("create the user's target group: %w", err)
	}
	n.UserTargetGroupARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	ls, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn,
		Protocol:        elbtypes.ProtocolEnumTcp,
		Port:            aws.Int32(7000),
		DefaultActions:  []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(n.UserTargetGroupARN)}},
	})
	if err != nil {
		return fmt.Errorf("create the user's NLB listener: %w", err)
	}
	n.UserNLBListenerARN = aws.ToString(ls.Listeners[0].ListenerArn)
	return nil
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

// TargetGroups creates n target groups of protocol in n's VPC, tg-0 to
// tg-<n-1>, for a router's tests.
func TargetGroups(t testing.TB, cfg aws.Config, net Net, protocol elbtypes.ProtocolEnum, n int) []string {
	t.Helper()
	client := elb.NewFromConfig(Exempt(cfg))
	var arns []string
	for i := range n {
		out, err := client.CreateTargetGroup(t.Context(), &elb.CreateTargetGroupInput{
			Name: aws.String(fmt.Sprintf("tg-%d", i)), Protocol: protocol, Port: aws.Int32(8080), VpcId: aws.String(net.VPC),
		})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.TargetGroups[0].TargetGroupArn))
	}
	return arns
}
