package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
)

// PutAlarm creates, as a test's own setup, a CloudWatch alarm on the 5xx of
// a load balancer's targets in the account cfg reaches, and returns the
// client that made it for the test to change or delete it.
func PutAlarm(tb testing.TB, cfg aws.Config, name string) *cloudwatch.Client {
	tb.Helper()
	cw := cloudwatch.NewFromConfig(Exempt(cfg), shifteraws.UseQueryProtocol)
	if _, err := cw.PutMetricAlarm(tb.Context(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), MetricName: aws.String("HTTPCode_Target_5XX_Count"), Namespace: aws.String("AWS/ApplicationELB"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		tb.Fatalf("put alarm %s: %v", name, err)
	}
	return cw
}
