package awslike

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// One listener a port. AWS gives each port of a load balancer one listener:
// CreateListener on a port that has one fails with DuplicateListener, "A
// listener with the specified port already exists" (CreateListener, ELBv2 API
// reference, Errors:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html).
// moto 5.2.1 checks the port against its load balancer's listeners keyed by
// ARN, which never matches, so it creates a second listener on the port; the
// layer refuses it as AWS does. The shifter relies on it: a listener it
// created and lost the answer of is found on its port, never made twice.

// refuseDuplicateListener answers a CreateListener on a port the load
// balancer has a listener on as AWS does, and reports whether it did. The
// caller holds s.creating until moto has answered the call it lets through,
// so that two creates on one port cannot both pass.
func (s *elbState) refuseDuplicateListener(ctx context.Context, w http.ResponseWriter, c *call) bool {
	lb, port := c.form.Get("LoadBalancerArn"), c.form.Get("Port")
	if lb == "" || port == "" {
		return false // moto answers what is missing
	}
	p := elb.NewDescribeListenersPaginator(s.client, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false // moto answers the create as it will (no such load balancer)
		}
		for _, li := range page.Listeners {
			if li.Port != nil && port == strconv.Itoa(int(*li.Port)) {
				writeError(w, c, http.StatusBadRequest, "DuplicateListener", "A listener with the specified port already exists.")
				return true
			}
		}
	}
	return false
}

// createsListener reports whether a call is a CreateListener.
func createsListener(c *call) bool {
	return c.service == budget.ELBv2 && c.protocol == protoQuery && c.operation == "CreateListener"
}

// TLS listeners change as AWS changes them. ModifyListener takes TLS as a
// protocol and a new default certificate for a TLS listener (ModifyListener,
// ELBv2 API reference:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html;
// replacing a TLS listener's default certificate: Network Load Balancers
// guide, "Update a TLS listener"). moto 5.2.1 refuses the protocol TLS in
// ModifyListener (UnsupportedProtocol) and keeps a TLS listener's
// certificate whatever the call says (it replaces only an HTTPS listener's).
// For a listener that is TLS already, the layer takes the protocol out of
// the call (moto keeps it) and swaps the default certificate itself with
// moto's Remove- and AddListenerCertificates, which moto's DescribeListeners
// shows. A TCP listener made TLS by ModifyListener is left to moto, which
// refuses it.

// modifyTLSListener rewrites a ModifyListener of a TLS listener into what
// moto applies as AWS would, and returns the body to send on (body itself
// when there is nothing to rewrite).
func (s *elbState) modifyTLSListener(ctx context.Context, c *call, body []byte) ([]byte, error) {
	arn := c.form.Get("ListenerArn")
	cert := c.form.Get("Certificates.member.1.CertificateArn")
	if arn == "" || (c.form.Get("Protocol") != string(elbtypes.ProtocolEnumTls) && cert == "") {
		return body, nil
	}
	out, err := s.client.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil || len(out.Listeners) != 1 || out.Listeners[0].Protocol != elbtypes.ProtocolEnumTls {
		return body, nil // moto answers as it will
	}
	form := url.Values{}
	for k, v := range c.form {
		if k != "Protocol" && !strings.HasPrefix(k, "Certificates.") {
			form[k] = v
		}
	}
	if cert != "" {
		if old := out.Listeners[0].Certificates; len(old) > 0 {
			if _, err := s.client.RemoveListenerCertificates(ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: aws.String(arn), Certificates: old}); err != nil {
				return nil, fmt.Errorf("remove the certificates of listener %s: %w", arn, err)
			}
		}
		if _, err := s.client.AddListenerCertificates(ctx, &elb.AddListenerCertificatesInput{ListenerArn: aws.String(arn),
			Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(cert)}}}); err != nil {
			return nil, fmt.Errorf("add certificate %s to listener %s: %w", cert, arn, err)
		}
	}
	return []byte(form.Encode()), nil
}

// modifiesListener reports whether a call is a ModifyListener.
func modifiesListener(c *call) bool {
	return c.service == budget.ELBv2 && c.protocol == protoQuery && c.operation == "ModifyListener"
}
