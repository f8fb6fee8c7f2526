package aws

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// Forward is a forward action splitting traffic between target groups by
// weight (target group ARN → weight), in a stable order: the action of an
// ALB rule and of an NLB listener alike.
func Forward(weights map[string]int) []elbtypes.Action {
	cfg := &elbtypes.ForwardActionConfig{}
	for _, arn := range slices.Sorted(maps.Keys(weights)) {
		cfg.TargetGroups = append(cfg.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(int32(weights[arn]))})
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: cfg}}
}

// ForwardWeights returns the weights of the forward actions among actions by
// target group ARN; empty when none forwards. A forward to a single target
// group without weights counts as 100.
func ForwardWeights(actions []elbtypes.Action) map[string]int {
	out := map[string]int{}
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, tg := range a.ForwardConfig.TargetGroups {
				out[aws.ToString(tg.TargetGroupArn)] = int(aws.ToInt32(tg.Weight))
			}
		} else if a.TargetGroupArn != nil {
			out[aws.ToString(a.TargetGroupArn)] = 100
		}
	}
	return out
}

// IsCode reports whether err is an AWS API error with one of codes.
func IsCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && slices.Contains(codes, apiErr.ErrorCode())
}

// ErrInvalidWeights is returned, wrapped, by every router for weights that
// are not a split of 100% (or all 0: a route without traffic yet) over
// targets its route can hold.
var ErrInvalidWeights = errors.New("invalid weights")

// CheckSplit checks that weights name targets and split 100%, or are all 0,
// and says how many targets carry traffic. A router checks its own limits
// besides: moto stores any weight, and AWS's ranges differ by router.
func CheckSplit(weights map[string]int) (positive int, err error) {
	sum := 0
	for target, w := range weights {
		if target == "" {
			return 0, fmt.Errorf("%w: a weight without a target", ErrInvalidWeights)
		}
		if w < 0 || w > 100 {
			return 0, fmt.Errorf("%w: %d for %s is not in 0..100", ErrInvalidWeights, w, target)
		}
		if w > 0 {
			positive++
		}
		sum += w
	}
	if sum != 100 && sum != 0 {
		return 0, fmt.Errorf("%w: %v sum to %d, not 100", ErrInvalidWeights, weights, sum)
	}
	return positive, nil
}

// Carries reports whether some target of weights has traffic: a route
// whose weights are all 0 attaches its targets and carries nothing yet.
func Carries(weights map[string]int) bool {
	for _, w := range weights {
		if w > 0 {
			return true
		}
	}
	return false
}
