package awstest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
)

// PutRequests records, as a test's own setup, that the target group of
// version (the one the shifter tagged with it) behind listenerARN took
// requests now: ALB's RequestCount, which moto never counts by itself.
func PutRequests(tb testing.TB, cfg aws.Config, listenerARN, version string, requests float64) {
	tb.Helper()
	PutTargetMetrics(tb, cfg, listenerARN, version, requests, 0, 0)
}

// PutTargetMetrics is PutRequests with the 5xx answers among the requests
// (HTTPCode_Target_5XX_Count) and their average latency (TargetResponseTime,
// summed over the requests).
func PutTargetMetrics(tb testing.TB, cfg aws.Config, listenerARN, version string, requests, errors5xx float64, latency time.Duration) {
	tb.Helper()
	ctx := tb.Context()
	lbs := elb.NewFromConfig(Exempt(cfg))
	groups, err := lbs.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		tb.Fatal(err)
	}
	var arn string
	for _, g := range groups.TargetGroups {
		tags, err := lbs.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(g.TargetGroupArn)}})
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range tags.TagDescriptions {
			for _, t := range d.Tags {
				if aws.ToString(t.Key) == shifteraws.TagVersion && aws.ToString(t.Value) == version {
					arn = aws.ToString(g.TargetGroupArn)
				}
			}
		}
	}
	if arn == "" {
		tb.Fatalf("no target group of version %s", version)
	}
	lb, err := watch.LoadBalancerDimension(listenerARN)
	if err != nil {
		tb.Fatal(err)
	}
	tg, err := watch.TargetGroupDimension(arn)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	dims := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: &lb}, {Name: aws.String("TargetGroup"), Value: &tg}}
	datum := func(name string, v float64) cwtypes.MetricDatum {
		return cwtypes.MetricDatum{MetricName: aws.String(name), Timestamp: &now, Value: aws.Float64(v), Dimensions: dims}
	}
	data := []cwtypes.MetricDatum{datum(watch.MetricRequests, requests)}
	if errors5xx > 0 {
		data = append(data, datum(watch.Metric5xx, errors5xx))
	}
	if latency > 0 {
		data = append(data, datum(watch.MetricResponseTime, latency.Seconds()*requests))
	}
	if _, err := cloudwatch.NewFromConfig(Exempt(cfg), shifteraws.UseQueryProtocol).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(watch.Namespace), MetricData: data,
	}); err != nil {
		tb.Fatal(err)
	}
}
