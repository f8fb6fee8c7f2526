package iampolicy

import (
	"fmt"
	"strings"
)

// TransactItem names an item of a DynamoDB transaction as an operation of its
// own ("TransactWriteItems.Put"): IAM authorizes each item by the action it
// performs, and TransactWriteItems has no action.
func TransactItem(operation, kind string) string {
	return operation + "." + kind
}

// ActionsOf returns the IAM actions AWS authorizes for operation of the
// service with the SDK service ID serviceID (as the SDK's middleware names
// them), dependent actions aside (DependentActions). It fails for a service
// the policy does not know.
func ActionsOf(serviceID, operation string) ([]string, error) {
	prefix, ok := prefixOf(serviceID)
	if !ok {
		return nil, fmt.Errorf("no IAM prefix for the AWS service %q: add it to iampolicy.prefixOf", serviceID)
	}
	if op, kind, ok := strings.Cut(operation, "."); ok && prefix == "dynamodb" && strings.HasPrefix(op, "Transact") {
		switch kind {
		case "Put", "Delete", "Update":
			return []string{prefix + ":" + kind + "Item"}, nil
		case "ConditionCheck":
			return []string{prefix + ":ConditionCheckItem"}, nil
		}
		return nil, fmt.Errorf("DynamoDB %s: no IAM action for a transaction item of kind %q", op, kind)
	}
	return []string{prefix + ":" + operation}, nil
}

// prefixOf maps the SDK's service IDs (each service package's ServiceID) to
// IAM's action prefixes, which differ.
func prefixOf(serviceID string) (string, bool) {
	switch serviceID {
	case "EC2":
		return "ec2", true
	case "Auto Scaling":
		return "autoscaling", true
	case "Elastic Load Balancing v2":
		return "elasticloadbalancing", true
	case "CloudWatch":
		return "cloudwatch", true
	case "DynamoDB":
		return "dynamodb", true
	case "SNS":
		return "sns", true
	case "STS":
		return "sts", true
	case "ECR":
		return "ecr", true
	case "Route 53":
		return "route53", true
	case "ECS":
		return "ecs", true
	case "ACM":
		return "acm", true
	case "IAM":
		return "iam", true
	}
	return "", false
}

// DependentActions returns the actions AWS authorizes besides action itself
// when the shifter calls it the way it does, which no call of the shifter
// names: the Service Authorization Reference's dependent actions and the
// services' guides on tagging at creation.
func DependentActions(action string) []string {
	switch action {
	case "autoscaling:CreateAutoScalingGroup":
		// A group from a launch template, whose instance profile is
		// passed to EC2 ("Amazon EC2 Auto Scaling API permissions").
		return []string{"ec2:RunInstances", "iam:PassRole"}
	case "ec2:CreateLaunchTemplate":
		return []string{"ec2:CreateTags"} // tag specifications
	case "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:CreateTargetGroup":
		return []string{"elasticloadbalancing:AddTags"} // tags on create
	case "ecs:CreateService":
		return []string{"ecs:TagResource"} // tags on create
	case "ecs:RegisterTaskDefinition":
		// Tags on create, and the task and execution roles passed to
		// ECS ("Amazon ECS task execution IAM role").
		return []string{"ecs:TagResource", "iam:PassRole"}
	}
	return nil
}
