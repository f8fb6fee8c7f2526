// Command iampolicy prints the IAM policy the shifter needs (package
// iampolicy), as the ionroller_shifter_iam_policy data source renders it,
// for those who create the shifter's role without Terraform. `make
// generate` writes the IAM guide's example with it.
//
//	go run ./tools/iampolicy -shifter-id prod -table-arn arn:aws:dynamodb:… [-o policy.json]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/iampolicy"
)

func main() {
	var o iampolicy.Options
	flag.StringVar(&o.ShifterID, "shifter-id", "", "the shifter's shifter_id: only resources tagged with it may be changed")
	flag.StringVar(&o.Partition, "partition", "", "partition of the ARNs (default aws)")
	flag.StringVar(&o.Region, "region", "", "region of the resources the shifter creates (default any)")
	flag.StringVar(&o.Account, "account", "", "account of the resources the shifter creates (default any)")
	flag.StringVar(&o.TableARN, "table-arn", "", "ARN of the DynamoDB store's table (none: no DynamoDB access)")
	flag.BoolVar(&o.CreateTable, "create-table", false, "the shifter creates the table")
	list := func(name, usage string, to *[]string) {
		flag.Func(name, usage+" (repeat for more)", func(s string) error { *to = append(*to, s); return nil })
	}
	list("instance-role-arn", "a role the templates' instance profiles carry", &o.InstanceRoleARNs)
	list("endpoint-role-arn", "a role an endpoint in another account names", &o.EndpointRoleARNs)
	list("topic-arn", "an SNS topic the notifications publish to", &o.TopicARNs)
	out := flag.String("o", "", "write the policy to this file instead of stdout")
	flag.Parse()
	if o.CreateTable && o.TableARN == "" {
		fmt.Fprintln(os.Stderr, "iampolicy: -create-table needs -table-arn")
		os.Exit(2)
	}

	doc := iampolicy.Policy(o).JSON() + "\n"
	if *out == "" {
		fmt.Print(doc)
		return
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "iampolicy:", err)
		os.Exit(1)
	}
}
