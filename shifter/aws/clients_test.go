package aws_test

import (
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestCloudWatch proves the CloudWatch client speaks a protocol moto
// understands: the test creates an alarm, drives its state and publishes a
// metric with a client of the same protocol, and the shifter's client reads
// them back as the shifter does.
func TestCloudWatch(t *testing.T) {
	ctx := t.Context()
	cfg := awstest.Config(t)
	clients := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{})
	set, err := clients.For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	cw := set.CloudWatch
	setup := cloudwatch.NewFromConfig(awstest.Exempt(cfg), shifteraws.UseQueryProtocol) // no call of the shifter's

	_, err = setup.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName:          awssdk.String("api-5xx"),
		Namespace:          awssdk.String("AWS/ApplicationELB"),
		MetricName:         awssdk.String("HTTPCode_Target_5XX_Count"),
		Statistic:          cwtypes.StatisticSum,
		Period:             awssdk.Int32(60),
		EvaluationPeriods:  awssdk.Int32(1),
		Threshold:          awssdk.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	})
	if err != nil {
		t.Fatalf("put metric alarm: %v", err)
	}
	if _, err := setup.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName:   awssdk.String("api-5xx"),
		StateValue:  cwtypes.StateValueAlarm,
		StateReason: awssdk.String("test"),
	}); err != nil {
		t.Fatalf("set alarm state: %v", err)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"api-5xx"}})
	if err != nil {
		t.Fatalf("describe alarms: %v", err)
	}
	if len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm {
		t.Fatalf("alarms = %+v, want api-5xx in ALARM", out.MetricAlarms)
	}

	now := time.Now()
	dims := []cwtypes.Dimension{{Name: awssdk.String("TargetGroup"), Value: awssdk.String("targetgroup/tg/1")}}
	if _, err := setup.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: awssdk.String("AWS/ApplicationELB"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: awssdk.String("RequestCount"),
			Dimensions: dims,
			Timestamp:  awssdk.Time(now),
			Value:      awssdk.Float64(42),
		}},
	}); err != nil {
		t.Fatalf("put metric data: %v", err)
	}
	data, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(now.Add(-5 * time.Minute)),
		EndTime:   awssdk.Time(now.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: awssdk.String("requests"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  awssdk.String("AWS/ApplicationELB"),
					MetricName: awssdk.String("RequestCount"),
					Dimensions: dims,
				},
				Period: awssdk.Int32(60),
				Stat:   awssdk.String("Sum"),
			},
		}},
	})
	if err != nil {
		t.Fatalf("get metric data: %v", err)
	}
	if len(data.MetricDataResults) != 1 || len(data.MetricDataResults[0].Values) != 1 || data.MetricDataResults[0].Values[0] != 42 {
		t.Errorf("metric data = %+v, want one sum of 42", data.MetricDataResults)
	}
}

func TestClientsAreCachedPerPlacement(t *testing.T) {
	clients := shifteraws.NewClients(awstest.Config(t), hclog.NewNullLogger(), schedule.Options{})
	a, err := clients.For(rollout.Placement{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := clients.For(rollout.Placement{}) // the base region is us-east-1
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("same placement: got two client sets")
	}
	c, err := clients.For(rollout.Placement{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Error("another region: got the same client set")
	}
	if got := c.EC2.Options().Region; got != "eu-west-1" {
		t.Errorf("eu-west-1 clients use region %q", got)
	}
}

func TestClientsAssumeRole(t *testing.T) {
	ctx := t.Context()
	cfg := awstest.Config(t)
	counter := awstest.NewCounter()
	counter.Add(&cfg)
	clients := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{})
	p := rollout.Placement{RoleARN: "arn:aws:iam::111122223333:role/ionroller", ExternalID: "team-a"}

	for range 2 {
		set, err := clients.For(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := set.ELBv2.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
			t.Fatalf("describe load balancers as %s: %v", p.RoleARN, err)
		}
	}
	if got := counter.Count("STS", "AssumeRole"); got != 1 {
		t.Errorf("AssumeRole called %d times for two uses of one placement, want 1", got)
	}

	set, err := clients.For(p)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := set.ELBv2.Options().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID == "test" || creds.SessionToken == "" || !creds.CanExpire || creds.Expires.Before(time.Now()) {
		t.Errorf("credentials = %+v, want a live session of the assumed role", creds)
	}
}

func TestClientsNeedARegion(t *testing.T) {
	cfg := awstest.Config(t)
	cfg.Region = ""
	if _, err := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{}); err == nil {
		t.Error("For with no region anywhere: want an error")
	}
}

func TestLoad(t *testing.T) {
	// The default chain, made hermetic: credentials from the environment,
	// no shared files of the machine.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	counter := awstest.NewCounter()

	base, err := shifteraws.Load(t.Context(), shifteraws.Config{
		Region:           "us-east-1",
		Endpoint:         awstest.Endpoint(),
		RetryMaxAttempts: 1,
		APIOptions:       []func(*middleware.Stack) error{counter.Middleware},
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := shifteraws.NewClients(base, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.CloudWatch.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Fatalf("describe alarms through the loaded config: %v", err)
	}
	if got := counter.Count("CloudWatch", "DescribeAlarms"); got != 1 {
		t.Errorf("counted %d DescribeAlarms, want 1: the config's middlewares are not applied", got)
	}
	if got := set.CloudWatch.Options().RetryMaxAttempts; got != 1 {
		t.Errorf("RetryMaxAttempts = %d, want 1", got)
	}
}
