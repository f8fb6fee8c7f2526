package awslike_test

import (
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// TestAPortHasOneListener: AWS refuses a second listener on a port of a load
// balancer (DuplicateListener); moto creates it. Through the layer, of many
// creates racing for one free port exactly one wins, and another port is
// still free.
func TestAPortHasOneListener(t *testing.T) {
	f := newFixture(t, 1)
	awstest.AddNLB(t, f.setup, &f.net)
	create := func(port int32) error {
		_, err := f.elb.CreateListener(t.Context(), &elb.CreateListenerInput{
			LoadBalancerArn: aws.String(f.net.NLBARN), Port: aws.Int32(port), Protocol: elbtypes.ProtocolEnumTcp,
			DefaultActions: shifteraws.Forward(map[string]int{f.net.UserTargetGroupARN: 100}),
		})
		return err
	}
	if err := create(7000); !shifteraws.IsCode(err, "DuplicateListener") {
		t.Errorf("a second listener on the port of the user's: %v, want DuplicateListener", err)
	}
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		created, refused int
	)
	for range 4 {
		wg.Go(func() {
			err := create(7100)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case shifteraws.IsCode(err, "DuplicateListener"):
				refused++
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if created != 1 || refused != 3 {
		t.Errorf("4 creates racing for one port: %d created, %d refused; want 1 and 3", created, refused)
	}
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{LoadBalancerArn: aws.String(f.net.NLBARN)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Listeners); n != 2 {
		t.Errorf("%d listeners on the load balancer, want 2 (7000 and 7100)", n)
	}
}

// TestATLSListenerTakesANewCertificate: AWS's ModifyListener takes TLS as
// the protocol and replaces a TLS listener's default certificate; moto
// refuses the protocol and keeps the certificate. Through the layer the
// listener has the new certificate and policy, is still TLS, and forwards
// as the call says.
func TestATLSListenerTakesANewCertificate(t *testing.T) {
	f := newFixture(t, 1)
	awstest.AddNLB(t, f.setup, &f.net)
	first, second := awstest.Certificate(t, f.setup, "a.example.test"), awstest.Certificate(t, f.setup, "a.example.test")
	out, err := f.elb.CreateListener(t.Context(), &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.net.NLBARN), Port: aws.Int32(7443), Protocol: elbtypes.ProtocolEnumTls,
		Certificates:   []elbtypes.Certificate{{CertificateArn: aws.String(first)}},
		DefaultActions: shifteraws.Forward(map[string]int{f.net.UserTargetGroupARN: 100}),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.Listeners[0].ListenerArn
	const policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	if _, err := f.elb.ModifyListener(t.Context(), &elb.ModifyListenerInput{ListenerArn: arn, Protocol: elbtypes.ProtocolEnumTls,
		Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(second)}}, SslPolicy: aws.String(policy),
		DefaultActions: shifteraws.Forward(map[string]int{f.net.UserTargetGroupARN: 100}),
	}); err != nil {
		t.Fatalf("ModifyListener of a TLS listener naming TLS and a new certificate: %v", err)
	}
	got, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{ListenerArns: []string{aws.ToString(arn)}})
	if err != nil {
		t.Fatal(err)
	}
	li := got.Listeners[0]
	if li.Protocol != elbtypes.ProtocolEnumTls || len(li.Certificates) != 1 || aws.ToString(li.Certificates[0].CertificateArn) != second || aws.ToString(li.SslPolicy) != policy {
		t.Errorf("listener %s with certificates %v and policy %q; want TLS with only %s and %s", li.Protocol, li.Certificates, aws.ToString(li.SslPolicy), second, policy)
	}
}
