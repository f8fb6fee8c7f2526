package budget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

func TestCharges(t *testing.T) {
	for _, tt := range []struct {
		call    budget.Call
		buckets []string
		tokens  []float64
	}{
		{budget.Call{Service: budget.ELBv2, Operation: "DescribeTargetHealth"}, []string{"non-mutating", "account"}, []float64{1, 1}},
		{budget.Call{Service: budget.ELBv2, Operation: "ModifyRule"}, []string{"mutating", "account"}, []float64{1, 1}},
		{budget.Call{Service: budget.ELBv2, Operation: "DeregisterTargets"}, []string{"registration", "account"}, []float64{1, 1}},
		{budget.Call{Service: budget.ELBv2, Operation: "CreateLoadBalancer"}, []string{"resource-intensive", "account"}, []float64{1, 1}},
		{budget.Call{Service: budget.EC2, Operation: "DescribeSubnets"}, []string{"non-mutating/DescribeSubnets"}, []float64{1}},
		{budget.Call{Service: budget.EC2, Operation: "DescribeInstances", Unfiltered: true}, []string{"unfiltered-unpaginated/DescribeInstances"}, []float64{1}},
		{budget.Call{Service: budget.EC2, Operation: "DescribeInstances"}, []string{"non-mutating/DescribeInstances"}, []float64{1}},
		{budget.Call{Service: budget.EC2, Operation: "CreateLaunchTemplate"}, []string{"mutating/CreateLaunchTemplate"}, []float64{1}},
		{budget.Call{Service: budget.EC2, Operation: "RunInstances", Resources: 3}, []string{"RunInstances", "RunInstances instances"}, []float64{1, 3}},
		{budget.Call{Service: budget.AutoScaling, Operation: "DescribeAutoScalingGroups"}, []string{"shared"}, []float64{1}},
		{budget.Call{Service: budget.CloudWatch, Operation: "DescribeAlarms"}, []string{"DescribeAlarms"}, []float64{1}},
		{budget.Call{Service: budget.CloudWatch, Operation: "GetDashboard"}, []string{"other/GetDashboard"}, []float64{1}},
		{budget.Call{Service: budget.ECR, Operation: "BatchGetImage"}, []string{"BatchGetImage"}, []float64{1}},
		{budget.Call{Service: budget.ECR, Operation: "PutImage"}, []string{"other/PutImage"}, []float64{1}},
		{budget.Call{Service: budget.Route53, Operation: "ChangeResourceRecordSets"}, []string{"account"}, []float64{1}},
		{budget.Call{Service: budget.Route53, Operation: "ListResourceRecordSets"}, []string{"account"}, []float64{1}},
		{budget.Call{Service: budget.DynamoDB, Operation: "PutItem"}, nil, nil},
		{budget.Call{Service: budget.STS, Operation: "AssumeRole"}, nil, nil},
	} {
		var buckets []string
		var tokens []float64
		for _, c := range budget.Charges(tt.call) {
			buckets = append(buckets, c.Bucket)
			tokens = append(tokens, c.Tokens)
		}
		if !slices.Equal(buckets, tt.buckets) || !slices.Equal(tokens, tt.tokens) {
			t.Errorf("Charges(%+v) = %v %v, want %v %v", tt.call, buckets, tokens, tt.buckets, tt.tokens)
		}
	}
}

func TestPublishedFigures(t *testing.T) {
	for _, l := range budget.Limits() {
		if l.Capacity < 1 || l.Refill <= 0 || l.Source == "" {
			t.Errorf("limit %+v: want a capacity of at least one token, a refill and a source", l)
		}
	}
	// The ELB guide's example, which TESTING.md quotes.
	c := budget.Charges(budget.Call{Service: budget.ELBv2, Operation: "DescribeRules"})[0].Limit
	if c.Capacity != 40 || c.Refill != 10 {
		t.Errorf("ELBv2 Describe* bucket = %v/%v, want 40/10", c.Capacity, c.Refill)
	}
	if s := c.Scale(0.5); s.Capacity != 20 || s.Refill != 5 {
		t.Errorf("Scale(0.5) = %v/%v, want 20/5", s.Capacity, s.Refill)
	}
	if s := c.Scale(0.001); s.Capacity != 1 {
		t.Errorf("Scale(0.001) capacity = %v, want at least one token", s.Capacity)
	}
}

func TestServiceOf(t *testing.T) {
	for id, want := range map[string]budget.Service{
		"Elastic Load Balancing v2": budget.ELBv2,
		"ELBv2":                     budget.ELBv2,
		"elasticloadbalancing":      budget.ELBv2,
		"Auto Scaling":              budget.AutoScaling,
		"CloudWatch":                budget.CloudWatch,
		"EC2":                       budget.EC2,
		"DynamoDB":                  budget.DynamoDB,
		"ECR":                       budget.ECR,
		"Route 53":                  budget.Route53,
	} {
		if got := budget.ServiceOf(id); got != want {
			t.Errorf("ServiceOf(%q) = %q, want %q", id, got, want)
		}
	}
	for s, want := range map[budget.Service]string{
		budget.ELBv2: "Throttling", budget.EC2: "RequestLimitExceeded", budget.DynamoDB: "ThrottlingException",
	} {
		if got := s.ThrottleCode(); got != want {
			t.Errorf("%s.ThrottleCode() = %q, want %q", s, got, want)
		}
	}
}

// TestBucketsThrottleAsAWSDoes: a call takes a token from each of its
// buckets or, when one is empty, from none; buckets refill at their rate and
// are kept apart per account and region.
func TestBucketsThrottleAsAWSDoes(t *testing.T) {
	describe := budget.Charges(budget.Call{Service: budget.ELBv2, Operation: "DescribeRules"}) // non-mutating 40/10, account 40/10
	modify := budget.Charges(budget.Call{Service: budget.ELBv2, Operation: "ModifyRule"})      // mutating 20/3, account 40/10
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	b := budget.NewBuckets(1)

	for i := range 20 {
		if !b.Take(at, "111111111111", "us-east-1", modify) {
			t.Fatalf("ModifyRule %d of a full bucket of 20 throttled", i+1)
		}
	}
	if b.Take(at, "111111111111", "us-east-1", modify) {
		t.Fatal("the 21st ModifyRule of a burst of 20 passed")
	}
	// The throttled ModifyRule took nothing from the account's bucket:
	// 20 of its 40 tokens are left for the describes.
	for i := range 20 {
		if !b.Take(at, "111111111111", "us-east-1", describe) {
			t.Fatalf("DescribeRules %d throttled with 20 tokens left in the account's bucket", i+1)
		}
	}
	if b.Take(at, "111111111111", "us-east-1", describe) {
		t.Fatal("a DescribeRules passed with the account's bucket empty")
	}
	if !b.Take(at, "222222222222", "us-east-1", modify) || !b.Take(at, "111111111111", "eu-west-1", modify) {
		t.Fatal("another account's, or another region's, buckets were charged")
	}
	// A second refills the mutating bucket with 3 tokens, the account's with 10.
	later := at.Add(time.Second)
	for i := range 3 {
		if !b.Take(later, "111111111111", "us-east-1", modify) {
			t.Fatalf("ModifyRule %d a second later throttled", i+1)
		}
	}
	if b.Take(later, "111111111111", "us-east-1", modify) {
		t.Fatal("a fourth ModifyRule passed a second after the bucket emptied (refill 3)")
	}
	if !b.Take(at, "111111111111", "us-east-1", budget.Charges(budget.Call{Service: budget.DynamoDB, Operation: "PutItem"})) {
		t.Fatal("an unbudgeted call was throttled")
	}

	b.SetScale(0.5)
	for _, l := range b.Limits() {
		if l.Service == budget.ELBv2 && l.Class == "mutating" && (l.Capacity != 10 || l.Refill != 1.5) {
			t.Errorf("Limits at scale 0.5: ELBv2 mutating %v/%v, want 10/1.5", l.Capacity, l.Refill)
		}
	}
}
