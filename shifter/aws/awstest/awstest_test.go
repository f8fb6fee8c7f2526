package awstest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestNetwork(t *testing.T) {
	cfg := awstest.Config(t)
	n := awstest.Network(t, cfg)
	if n.VPC == "" || len(n.Subnets) != 2 || n.SecurityGroup == "" || n.LoadBalancerARN == "" || n.ListenerARN == "" || n.AMI == "" {
		t.Fatalf("incomplete network: %+v", n)
	}

	ls, err := elb.NewFromConfig(cfg).DescribeListeners(t.Context(), &elb.DescribeListenersInput{
		ListenerArns: []string{n.ListenerARN},
	})
	if err != nil {
		t.Fatalf("describe listener: %v", err)
	}
	got := ls.Listeners[0]
	if aws.ToInt32(got.Port) != 80 || len(got.DefaultActions) != 1 || aws.ToString(got.DefaultActions[0].FixedResponseConfig.StatusCode) != "404" {
		t.Errorf("listener = port %d, actions %+v; want :80 with a fixed 404", aws.ToInt32(got.Port), got.DefaultActions)
	}
}

func TestAccountsAreIsolated(t *testing.T) {
	a, b := awstest.NewAccount(t), awstest.NewAccount(t)
	if a.ID == b.ID || len(a.ID) != 12 {
		t.Fatalf("account ids %q and %q: want two different 12-digit ids", a.ID, b.ID)
	}
	n := awstest.Network(t, a.Config)

	out, err := ec2.NewFromConfig(b.Config).DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatalf("describe vpcs: %v", err)
	}
	for _, v := range out.Vpcs {
		if aws.ToString(v.VpcId) == n.VPC {
			t.Errorf("account %s sees vpc %s of account %s", b.ID, n.VPC, a.ID)
		}
	}
}

func TestCounter(t *testing.T) {
	cfg := awstest.Config(t)
	c := awstest.NewCounter()
	c.Add(&cfg)
	client := ec2.NewFromConfig(cfg)
	for range 2 {
		if _, err := client.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	if got := c.Count("EC2", "DescribeVpcs"); got != 2 {
		t.Errorf("Count(EC2, DescribeVpcs) = %d, want 2", got)
	}
	if got := c.Count(ec2.ServiceID, "CreateVpc"); got != 1 {
		t.Errorf("Count(ec2.ServiceID, CreateVpc) = %d, want 1", got)
	}
	if total, writes := c.Total("ec2"), c.Writes("ec2"); total != 3 || writes != 1 {
		t.Errorf("Total = %d, Writes = %d; want 3 and 1", total, writes)
	}
	if got, want := c.String(), "ec2.CreateVpc=1 ec2.DescribeVpcs=2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c.Reset()
	if got := c.Total("EC2"); got != 0 {
		t.Errorf("after Reset, Total = %d", got)
	}
}
