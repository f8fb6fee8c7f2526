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
	sums, err := m.sums(ctx, listenerARN, targetGroupARNs, []string{MetricRequests, Metric5xx, MetricResponseTime}, start, end)
	if err != nil {
		return nil, err
	}
	result := make(map[string]rollout.Metrics, len(targetGroupARNs))
	for i, arn := range targetGroupARNs {
		requests := sums[i][0]
		mt := rollout.Metrics{Requests: requests, Errors5xx: sums[i][1]}
		if requests > 0 {
			mt.AverageLatency = time.Duration(sums[i][2] / requests * float64(time.Second))
		}
		result[arn] = mt
	}
	return result, nil
}

// sums returns the Sum of each named metric of each target group over
// [start, end), indexed like targetGroupARNs and names, read in one
// GetMetricData (and its pages).
func (m *Metrics) sums(ctx context.Context, listenerARN string, targetGroupARNs, names []string, start, end time.Time) ([][]float64, error) {
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
		for j, name := range names {
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
	out := make([][]float64, len(targetGroupARNs))
	for i := range out {
		out[i] = make([]float64, len(names))
	}
	if len(queries) == 0 {
		return out, nil
	}
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: &start, EndTime: &end}
	for {
		res, err := m.api.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		for _, r := range res.MetricDataResults {
			var i, j int
			if _, err := fmt.Sscanf(awssdk.ToString(r.Id), "q%d_%d", &i, &j); err != nil || i >= len(out) || j >= len(names) {
				return nil, fmt.Errorf("get metric data: an answer to a query never asked, %q", awssdk.ToString(r.Id))
			}
			for _, v := range r.Values {
				out[i][j] += v
			}
		}
		if res.NextToken == nil {
			break
		}
		in.NextToken = res.NextToken
	}
	return out, nil
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
