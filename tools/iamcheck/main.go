// Command iamcheck proves the shifter's IAM policy (package iampolicy, with
// every optional statement) against the AWS operations the test suite saw
// the shifter call (package callrecord): it fails when the shifter called an
// operation the policy does not allow, or the policy allows an action no
// recorded call needs, naming each. `make test` runs it after the suite.
//
//	go run ./tools/iamcheck -dir bin/aws-calls
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/callrecord"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

// everything names every optional part of the policy, so that each of its
// statements is checked.
var everything = iampolicy.Options{
	TableARN:         "arn:aws:dynamodb:us-east-1:123456789012:table/ionroller",
	CreateTable:      true,
	InstanceRoleARNs: []string{"arn:aws:iam::123456789012:role/instance"},
	TaskRoleARNs:     []string{"arn:aws:iam::123456789012:role/task"},
	EndpointRoleARNs: []string{"arn:aws:iam::123456789012:role/endpoint"},
	TopicARNs:        []string{"arn:aws:sns:us-east-1:123456789012:rollouts"},
	HostedZoneIDs:    []string{"Z0123456789ABCDEFGHIJ"},
}

func main() {
	dir := flag.String("dir", "", "the directory the suite recorded its AWS calls in ("+callrecord.DirEnv+")")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "iamcheck: -dir is required")
		os.Exit(2)
	}
	calls, err := callrecord.Read(*dir)
	if err == nil {
		err = check(os.Stdout, calls, iampolicy.Policy(everything))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "iamcheck:", err)
		os.Exit(1)
	}
}

// check compares what calls need with what policy allows, reports both to
// w, and fails naming every difference.
func check(w io.Writer, calls []callrecord.Call, policy iampolicy.Document) error {
	needs := map[string][]string{} // action → the calls that need it
	for _, c := range calls {
		name := c.Service + " " + c.Operation
		actions, err := iampolicy.ActionsOf(c.Service, c.Operation)
		if err != nil {
			return err
		}
		for _, a := range actions {
			needs[a] = append(needs[a], name)
			for _, d := range iampolicy.DependentActions(a) {
				needs[d] = append(needs[d], name+" (depends on it)")
			}
		}
	}
	granted := policy.Actions()

	var problems []string
	for _, a := range slices.Sorted(maps.Keys(needs)) {
		if !slices.Contains(granted, a) {
			problems = append(problems, fmt.Sprintf("the shifter called %s, but the policy does not allow %s", strings.Join(needs[a], ", "), a))
		}
	}
	for _, a := range granted {
		if _, ok := needs[a]; !ok {
			problems = append(problems, fmt.Sprintf("the policy allows %s, which no recorded call of the shifter needs", a))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the shifter's IAM policy (shifter/aws/iampolicy) is not what its calls need:\n  %s", strings.Join(problems, "\n  "))
	}

	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Service + " " + c.Operation
	}
	slices.Sort(names)
	fmt.Fprintf(w, "iamcheck: the policy allows the %d actions the %d operations the suite recorded need, and nothing more (%s)\n",
		len(granted), len(calls), byService(granted))
	fmt.Fprintf(w, "iamcheck: recorded: %s\n", strings.Join(names, ", "))
	return nil
}

// byService counts actions by their service's prefix: "autoscaling 4, ...".
func byService(actions []string) string {
	count := map[string]int{}
	for _, a := range actions {
		prefix, _, _ := strings.Cut(a, ":")
		count[prefix]++
	}
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s %d", p, count[p]))
	}
	return strings.Join(parts, ", ")
}
