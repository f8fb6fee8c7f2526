package main

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	out := `goos: linux
pkg: github.com/ionroller/terraform-provider-ionroller/shifter/rollout
BenchmarkPlan/steady         	  552121	      2034 ns/op	    491700 decisions/s	    1344 B/op	       2 allocs/op
--- BENCH: BenchmarkIgnored
pkg: github.com/ionroller/terraform-provider-ionroller/shifter/cli
BenchmarkRollbackLatency-2   	      20	  78975416 ns/op	         1.000 elb-writes/op	        77.05 ms-p50
ok  	github.com/ionroller/terraform-provider-ionroller/shifter/cli	8.298s
`
	rows, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := "| package | benchmark | results |\n|---|---|---|\n" +
		"| shifter/rollout | BenchmarkPlan/steady | 2034 ns/op, 491700 decisions/s, 1344 B/op, 2 allocs/op |\n" +
		"| shifter/cli | BenchmarkRollbackLatency-2 | 78975416 ns/op, 1.000 elb-writes/op, 77.05 ms-p50 |\n"
	if got := table(rows); got != want {
		t.Errorf("table =\n%s\nwant\n%s", got, want)
	}
}
