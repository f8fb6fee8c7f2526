package route53

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
)

// HealthChecks is the part of Route 53 that keeps the versions' health
// checks (traffic.route53.health_check).
type HealthChecks interface {
	CreateHealthCheck(context.Context, *r53.CreateHealthCheckInput, ...func(*r53.Options)) (*r53.CreateHealthCheckOutput, error)
	ListHealthChecks(context.Context, *r53.ListHealthChecksInput, ...func(*r53.Options)) (*r53.ListHealthChecksOutput, error)
	DeleteHealthCheck(context.Context, *r53.DeleteHealthCheckInput, ...func(*r53.Options)) (*r53.DeleteHealthCheckOutput, error)
	ChangeTagsForResource(context.Context, *r53.ChangeTagsForResourceInput, ...func(*r53.Options)) (*r53.ChangeTagsForResourceOutput, error)
}

// A slot's health check is found by its caller reference: the slot's set
// identifier and a digest of the check's configuration, so that a check
// created by a call whose answer was lost is found, not created again, and
// a changed configuration makes a new check (Route 53 cannot change a
// check's interval).
func (r route) callerReference(s slot) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%d\x00%d", aws.ToString(s.lb.DNSName), s.port, r.check.Path,
		int(r.check.Interval.D().Seconds()), r.check.FailureThreshold))
	return r.setID(s) + "-" + hex.EncodeToString(sum[:6])
}

// healthCheck returns the ID of the health check of slot s, creating it
// if it does not exist.
func (rt *Router) healthCheck(ctx context.Context, r route, s slot) (string, error) {
	ref := r.callerReference(s)
	checks, err := rt.listHealthChecks(ctx)
	if err != nil {
		return "", err
	}
	if id, ok := checks[ref]; ok {
		return id, nil
	}
	protocol := r53types.HealthCheckTypeHttp
	if s.https {
		protocol = r53types.HealthCheckTypeHttps
	}
	out, err := rt.checks.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{
		CallerReference: aws.String(ref),
		HealthCheckConfig: &r53types.HealthCheckConfig{
			Type:                     protocol,
			FullyQualifiedDomainName: s.lb.DNSName,
			Port:                     aws.Int32(s.port),
			ResourcePath:             aws.String(r.check.Path),
			RequestInterval:          aws.Int32(int32(r.check.Interval.D().Seconds())),
			FailureThreshold:         aws.Int32(int32(r.check.FailureThreshold)),
		},
	})
	if err != nil {
		return "", fmt.Errorf("route %s: create health check of %s: %w", r, aws.ToString(s.lb.LoadBalancerName), err)
	}
	id := aws.ToString(out.HealthCheck.Id)
	rt.mu.Lock()
	rt.checkIDs[ref] = id
	rt.mu.Unlock()
	_, err = rt.checks.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{
		ResourceType: r53types.TagResourceTypeHealthcheck, ResourceId: aws.String(id),
		AddTags: []r53types.Tag{
			{Key: aws.String(shifteraws.TagShifter), Value: aws.String(rt.shifterID)},
			{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(r.endpoint)},
			{Key: aws.String("Name"), Value: aws.String(ref)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("route %s: tag health check %s: %w", r, id, err)
	}
	return id, nil
}

// listHealthChecks returns the health checks of every route of the
// router's, by caller reference: those it created, and the account's as
// listed once after the router started (a check another replica, or an
// earlier shifter, created).
func (rt *Router) listHealthChecks(ctx context.Context) (map[string]string, error) {
	rt.mu.Lock()
	listed := rt.checksListed
	rt.mu.Unlock()
	if !listed {
		found := map[string]string{}
		p := r53.NewListHealthChecksPaginator(rt.checks, &r53.ListHealthChecksInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list health checks: %w", err)
			}
			for _, c := range page.HealthChecks {
				if ref := aws.ToString(c.CallerReference); strings.HasPrefix(ref, "ionroller-"+rt.shifterID+"-") {
					found[ref] = aws.ToString(c.Id)
				}
			}
		}
		rt.mu.Lock()
		for ref, id := range found {
			rt.checkIDs[ref] = id
		}
		rt.checksListed = true
		rt.mu.Unlock()
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make(map[string]string, len(rt.checkIDs))
	for ref, id := range rt.checkIDs {
		out[ref] = id
	}
	return out, nil
}

// deleteHealthChecks deletes the health checks of the route's slots that
// no record uses (inUse, by set identifier): all of them once the route
// carries no traffic, and those of an older configuration.
func (rt *Router) deleteHealthChecks(ctx context.Context, r route, slots []slot, inUse map[string]string) error {
	checks, err := rt.listHealthChecks(ctx)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, id := range inUse {
		used[id] = true
	}
	for ref, id := range checks {
		if used[id] || !slices.ContainsFunc(slots, func(s slot) bool { return strings.HasPrefix(ref, r.setID(s)+"-") }) {
			continue
		}
		_, err := rt.checks.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)})
		if err != nil && !shifteraws.IsCode(err, "NoSuchHealthCheck") {
			return fmt.Errorf("route %s: delete health check %s: %w", r, id, err)
		}
		rt.mu.Lock()
		delete(rt.checkIDs, ref)
		rt.mu.Unlock()
	}
	return nil
}
