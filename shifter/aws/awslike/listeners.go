package awslike

import (
	"context"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

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
