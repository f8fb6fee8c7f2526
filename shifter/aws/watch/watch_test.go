package watch_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// cloudWatch returns the CloudWatch client the watchers under test use, whose
// calls are counted, and one of the same account for the test's own setup,
// which AWS's budgets do not slow (awstest.Exempt).
func cloudWatch(t *testing.T) (watched, setup *cloudwatch.Client, calls *awstest.Counter) {
	t.Helper()
	cfg := awstest.Config(t)
	setup = cloudwatch.NewFromConfig(awstest.Exempt(cfg), aws.UseQueryProtocol)
	calls = awstest.NewCounter()
	calls.Add(&cfg)
	set, err := aws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	return set.CloudWatch, setup, calls
}

func putAlarm(t *testing.T, cw *cloudwatch.Client, name, state string) {
	t.Helper()
	_, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{
		AlarmName:          awssdk.String(name),
		Namespace:          awssdk.String(watch.Namespace),
		MetricName:         awssdk.String(watch.Metric5xx),
		Statistic:          cwtypes.StatisticSum,
		Period:             awssdk.Int32(60),
		EvaluationPeriods:  awssdk.Int32(1),
		Threshold:          awssdk.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	})
	if err != nil {
		t.Fatal(err)
	}
	if state != "" {
		_, err = cw.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String(name), StateValue: cwtypes.StateValue(state), StateReason: awssdk.String("test")})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAlarmsAreReadInOneBatchForAllEndpoints is the scale promise: 100
// endpoints watching 3 alarms each cost 3 DescribeAlarms calls per poll.
func TestAlarmsAreReadInOneBatchForAllEndpoints(t *testing.T) {
	cw, setup, calls := cloudWatch(t)
	const endpoints, perEndpoint = 100, 3
	names := make([][]string, endpoints)
	for i := range endpoints {
		for j := range perEndpoint {
			name := fmt.Sprintf("ep%03d-alarm%d", i, j)
			state := ""
			if i%10 == 0 && j == 0 {
				state = "ALARM"
			}
			putAlarm(t, setup, name, state)
			names[i] = append(names[i], name)
		}
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	alarms := watch.NewAlarms(cw, 5*time.Second)
	alarms.Now = func() time.Time { return now }

	poll := func() {
		t.Helper()
		var wg sync.WaitGroup
		for i := range endpoints {
			wg.Go(func() {
				got, err := alarms.States(t.Context(), names[i])
				if err != nil {
					t.Error(err)
					return
				}
				want := "OK"
				if i%10 == 0 {
					want = "ALARM"
				}
				if len(got) != perEndpoint || got[names[i][0]] != want && got[names[i][0]] != "INSUFFICIENT_DATA" {
					t.Errorf("endpoint %d states = %v", i, got)
				}
			})
		}
		wg.Wait()
	}
	// The first poll meets names one by one as endpoints arrive; from the
	// second on, every endpoint is answered from one batch read.
	poll()
	calls.Reset()
	now = now.Add(6 * time.Second)
	poll()
	if n := calls.Count("cloudwatch", "DescribeAlarms"); n != 3 {
		t.Errorf("DescribeAlarms calls for %d endpoints x %d alarms in one poll = %d, want 3", endpoints, perEndpoint, n)
	}
	calls.Reset()
	now = now.Add(time.Second)
	poll()
	if n := calls.Count("cloudwatch", "DescribeAlarms"); n != 0 {
		t.Errorf("DescribeAlarms calls within MaxAge = %d, want 0", n)
	}
}

func TestAlarmStateChangesAreSeenAfterMaxAge(t *testing.T) {
	cw, setup, _ := cloudWatch(t)
	putAlarm(t, setup, "web-5xx", "OK")
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	alarms := watch.NewAlarms(cw, 5*time.Second)
	alarms.Now = func() time.Time { return now }
	got, err := alarms.States(t.Context(), []string{"web-5xx", "missing"})
	if err != nil || got["web-5xx"] != "OK" || len(got) != 1 {
		t.Fatalf("states = %v, %v; want web-5xx OK and no entry for a missing alarm", got, err)
	}
	putAlarm(t, setup, "web-5xx", "ALARM")
	now = now.Add(5 * time.Second)
	if got, err = alarms.States(t.Context(), []string{"web-5xx"}); err != nil || got["web-5xx"] != "ALARM" {
		t.Fatalf("states after MaxAge = %v, %v; want ALARM", got, err)
	}
}

func TestMetricsSumOverTheWindowPerTargetGroup(t *testing.T) {
	cw, setup, calls := cloudWatch(t)
	listener := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2"
	tgNew := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ir-new/73e2d6bc24d8a067"
	tgOld := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ir-old/83e2d6bc24d8a067"
	start := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	put := func(tg, metric string, at time.Time, v float64) {
		t.Helper()
		lb, _ := watch.LoadBalancerDimension(listener)
		tgDim, _ := watch.TargetGroupDimension(tg)
		_, err := setup.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
			Namespace: awssdk.String(watch.Namespace),
			MetricData: []cwtypes.MetricDatum{{
				MetricName: awssdk.String(metric),
				Timestamp:  awssdk.Time(at),
				Value:      awssdk.Float64(v),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String("LoadBalancer"), Value: &lb}, {Name: awssdk.String("TargetGroup"), Value: &tgDim}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range []time.Time{start.Add(time.Minute), start.Add(2 * time.Minute)} {
		put(tgNew, watch.MetricRequests, at, 100)
		put(tgNew, watch.Metric5xx, at, 6)
		put(tgNew, watch.MetricResponseTime, at, 25) // seconds summed over 100 requests: 250ms each
		put(tgOld, watch.MetricRequests, at, 400)
		put(tgOld, watch.Metric5xx, at, 2)
		put(tgOld, watch.MetricResponseTime, at, 40)
	}
	put(tgNew, watch.Metric5xx, start.Add(-time.Hour), 1000) // outside the window

	got, err := watch.NewMetrics(cw).Measure(t.Context(), listener, []string{tgNew, tgOld}, start, start.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if m := got[tgNew]; m.Requests != 200 || m.Errors5xx != 12 || m.AverageLatency != 250*time.Millisecond {
		t.Errorf("new target group = %+v, want 200 requests, 12 5xx, 250ms", m)
	}
	if m := got[tgOld]; m.Requests != 800 || m.Errors5xx != 4 || m.AverageLatency != 100*time.Millisecond {
		t.Errorf("old target group = %+v, want 800 requests, 4 5xx, 100ms", m)
	}

	// Where the traffic goes: every target group in one call, over a
	// window that leaves the first minute out.
	calls.Reset()
	tgIdle := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ir-idle/93e2d6bc24d8a067"
	got, err = watch.NewMetrics(cw).Measure(t.Context(), listener, []string{tgNew, tgOld, tgIdle}, start.Add(90*time.Second), start.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got[tgNew].Requests != 100 || got[tgOld].Requests != 400 || got[tgIdle].Requests != 0 || len(got) != 3 {
		t.Errorf("requests = %v, want 100 new, 400 old, 0 idle", got)
	}
	if n := calls.Count("CloudWatch", "GetMetricData"); n != 1 {
		t.Errorf("GetMetricData calls = %d, want 1 for the three target groups", n)
	}
}

func TestDimensionsRejectOtherARNs(t *testing.T) {
	if _, err := watch.LoadBalancerDimension("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"); err == nil {
		t.Error("a target group ARN was taken for a listener")
	}
	if _, err := watch.TargetGroupDimension("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2"); err == nil {
		t.Error("a listener ARN was taken for a target group")
	}
}
