package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// GetMetricDataAPI is the part of CloudWatch the metric reader uses.
type GetMetricDataAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Metrics reads a target group's ALB metrics over a window: requests, 5xx
// answers and the total response time, as sums, so that rates and averages
// are computed here rather than with metric math (which moto lacks, and which
// would hide how few requests a verdict rests on).
type Metrics struct {
	api GetMetricDataAPI
}

// NewMetrics returns a reader of ALB metrics through api.
func NewMetrics(api GetMetricDataAPI) *Metrics { return &Metrics{api: api} }

// ALB metric names in the AWS/ApplicationELB namespace.
const (
	Namespace          = "AWS/ApplicationELB"
	MetricRequests     = "RequestCount"
	Metric5xx          = "HTTPCode_Target_5XX_Count"
	MetricResponseTime = "TargetResponseTime"
)

// Measure returns the metrics of each target group behind the listener over
// [start, end), by target group ARN.
func (m *Metrics) Measure(ctx context.Context, listenerARN string, targetGroupARNs []string, start, end time.Time) (map[string]rollout.Metrics, error) {
	lb, err := LoadBalancerDimension(listenerARN)
	if err != nil {
		return nil, err
	}
	var queries []cwtypes.MetricDataQuery
	for i, arn := range targetGroupARNs {
		tg, err := TargetGroupDimension(arn)
		if err != nil {
			return nil, err
		}
		for j, name := range []string{MetricRequests, Metric5xx, MetricResponseTime} {
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: awssdk.String(fmt.Sprintf("q%d_%d", i, j)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  awssdk.String(Namespace),
						MetricName: awssdk.String(name),
						Dimensions: []cwtypes.Dimension{
							{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lb)},
							{Name: awssdk.String("TargetGroup"), Value: awssdk.String(tg)},
						},
					},
					Period: awssdk.Int32(60),
					Stat:   awssdk.String("Sum"),
				},
			})
		}
	}
	sums := map[string]float64{}
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: &start, EndTime: &end}
	for {
		out, err := m.api.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		for _, r := range out.MetricDataResults {
			for _, v := range r.Values {
				sums[awssdk.ToString(r.Id)] += v
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	result := make(map[string]rollout.Metrics, len(targetGroupARNs))
	for i, arn := range targetGroupARNs {
		requests := sums[fmt.Sprintf("q%d_0", i)]
		mt := rollout.Metrics{Requests: requests, Errors5xx: sums[fmt.Sprintf("q%d_1", i)]}
		if requests > 0 {
			mt.AverageLatency = time.Duration(sums[fmt.Sprintf("q%d_2", i)] / requests * float64(time.Second))
		}
		result[arn] = mt
	}
	return result, nil
}

// LoadBalancerDimension returns the LoadBalancer dimension of a listener's
// load balancer: "app/NAME/ID" from ".../listener/app/NAME/ID/LISTENER".
func LoadBalancerDimension(listenerARN string) (string, error) {
	_, rest, ok := strings.Cut(listenerARN, ":listener/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 {
		return "", fmt.Errorf("%q is not a load balancer listener ARN", listenerARN)
	}
	return strings.Join(parts[:3], "/"), nil
}

// TargetGroupDimension returns the TargetGroup dimension of a target group:
// "targetgroup/NAME/ID".
func TargetGroupDimension(arn string) (string, error) {
	i := strings.Index(arn, ":targetgroup/")
	if i < 0 {
		return "", fmt.Errorf("%q is not a target group ARN", arn)
	}
	return arn[i+1:], nil
}
