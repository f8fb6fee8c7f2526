package api

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Bounds are what the endpoints of one team may use, from the team's block
// in the shifter's configuration. A list left empty leaves its dimension
// unbounded; a team without a block is unbounded in all of them.
type Bounds struct {
	// Listeners are patterns of the listener ARNs the team may route.
	Listeners []string
	// Hosts are patterns every host condition must fall within; with
	// them, an endpoint must name its hosts (none would take every host).
	Hosts []string
	// PathPrefixes start every path condition; with them, an endpoint must
	// name its paths.
	PathPrefixes []string
	// MinPriority and MaxPriority bound the rule priorities (0: unbounded).
	MinPriority, MaxPriority int
	// Accounts are the AWS accounts, and RoleARNs the patterns of the roles,
	// the team's endpoints may assume; with either, an endpoint must assume
	// a role rather than act as the shifter itself.
	Accounts []string
	RoleARNs []string
	// Repositories are patterns of the image repositories the team's
	// releases may run.
	Repositories []string
	// WebhookHosts are patterns of the hosts its webhooks may reach.
	WebhookHosts []string
	// AllowPrivateWebhooks lets its webhooks reach loopback, link-local and
	// private addresses, which are otherwise refused.
	AllowPrivateWebhooks bool
}

// forbidden is the 403 of a value outside the team's bounds.
func forbidden(field, format string, args ...any) error {
	return &rollout.Error{Code: rollout.EFORBIDDEN, Field: field, Message: fmt.Sprintf(format, args...)}
}

// bounds returns the bounds of team: none for an endpoint of no team or of
// a team without a block, but for private webhooks.
func (s *Server) bounds(team string) Bounds {
	b := s.Teams[team]
	b.AllowPrivateWebhooks = s.WebhooksMayReachPrivate(team)
	return b
}

// WebhooksMayReachPrivate reports whether the webhooks of team may reach
// loopback, link-local and private addresses: the configuration allows it
// to every team, or to this one.
func (s *Server) WebhooksMayReachPrivate(team string) bool {
	return s.AllowPrivateWebhooks || s.Teams[team].AllowPrivateWebhooks
}

// checkEndpoint refuses an endpoint that uses what its team may not:
// a listener, priority, host, path, account, role, repository or webhook
// host outside the team's bounds (403 naming the field).
func (b Bounds) checkEndpoint(team string, ep rollout.Endpoint) error {
	t := ep.Traffic
	if t.NLB != nil {
		if err := b.checkNLB(team, *t.NLB); err != nil {
			return err
		}
	}
	if t.Route53 != nil {
		if err := b.checkRoute53(team, *t.Route53); err != nil {
			return err
		}
	}
	for _, l := range []struct{ field, arn string }{{"traffic.listener_arn", t.ListenerARN}, {"traffic.preview_listener_arn", t.PreviewListenerARN}} {
		if l.arn != "" && !within(b.Listeners, l.arn, false) {
			return forbidden(l.field, "team %q may route only listeners matching %s", team, strings.Join(b.Listeners, ", "))
		}
	}
	for _, p := range []struct {
		field    string
		priority int
	}{{"traffic.priority", t.Priority}, {"traffic.preview_priority", t.PreviewPriority}} {
		if p.priority != 0 && b.MaxPriority != 0 && (p.priority < b.MinPriority || p.priority > b.MaxPriority) {
			return forbidden(p.field, "team %q may use rule priorities %d to %d only", team, b.MinPriority, b.MaxPriority)
		}
	}
	if err := checkHosts(b, team, t); err != nil {
		return err
	}
	if len(b.PathPrefixes) > 0 && t.Kind() == rollout.TrafficALB {
		if len(t.Paths) == 0 {
			return forbidden("traffic.paths", "team %q may route only paths beginning with %s: name them, or the rule takes every path", team, strings.Join(b.PathPrefixes, ", "))
		}
		for i, path := range t.Paths {
			if !slices.ContainsFunc(b.PathPrefixes, func(prefix string) bool { return strings.HasPrefix(path, prefix) }) {
				return forbidden(fmt.Sprintf("traffic.paths[%d]", i), "team %q may route only paths beginning with %s", team, strings.Join(b.PathPrefixes, ", "))
			}
		}
	}
	if err := checkRole(b, team, ep.Placement.RoleARN); err != nil {
		return err
	}
	if !within(b.Repositories, ep.Template.Repository, false) {
		return forbidden("template.repository", "team %q may run images of repositories matching %s only", team, strings.Join(b.Repositories, ", "))
	}
	return checkWebhook(b, team, ep.Notifications.WebhookURL)
}

func checkHosts(b Bounds, team string, t rollout.Traffic) error {
	if len(b.Hosts) == 0 || t.NLB != nil || t.Route53 != nil {
		return nil
	}
	if len(t.Hosts) == 0 {
		return forbidden("traffic.hosts", "team %q may route only hosts matching %s: name them, or the rule takes every host", team, strings.Join(b.Hosts, ", "))
	}
	for i, host := range t.Hosts {
		if !within(b.Hosts, host, true) {
			return forbidden(fmt.Sprintf("traffic.hosts[%d]", i), "team %q may route only hosts matching %s", team, strings.Join(b.Hosts, ", "))
		}
	}
	if t.PreviewHost != "" && !within(b.Hosts, t.PreviewHost, true) {
		return forbidden("traffic.preview_host", "team %q may route only hosts matching %s", team, strings.Join(b.Hosts, ", "))
	}
	return nil
}

func checkRole(b Bounds, team, roleARN string) error {
	if len(b.Accounts) == 0 && len(b.RoleARNs) == 0 {
		return nil
	}
	if roleARN == "" {
		return forbidden("placement.role_arn", "team %q must assume one of its roles: the shifter's own account is not its to use", team)
	}
	// A role ARN is arn:partition:iam::ACCOUNT:role/NAME (checked by Validate).
	if account := strings.Split(roleARN, ":")[4]; len(b.Accounts) > 0 && !slices.Contains(b.Accounts, account) {
		return forbidden("placement.role_arn", "team %q may use AWS accounts %s only", team, strings.Join(b.Accounts, ", "))
	}
	if !within(b.RoleARNs, roleARN, false) {
		return forbidden("placement.role_arn", "team %q may assume roles matching %s only", team, strings.Join(b.RoleARNs, ", "))
	}
	return nil
}

// checkImage refuses a release image outside the team's repositories.
func (b Bounds) checkImage(team, image string) error {
	if !within(b.Repositories, imageRepository(image), false) {
		return forbidden("image", "team %q may run images of repositories matching %s only", team, strings.Join(b.Repositories, ", "))
	}
	return nil
}

// imageRepository is an image reference without its tag and digest.
func imageRepository(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if slash, colon := strings.LastIndex(image, "/"), strings.LastIndex(image, ":"); colon > slash {
		image = image[:colon] // a colon before the last slash is a registry's port
	}
	return image
}

// checkWebhook refuses a webhook host outside the team's bounds, and one
// that names a loopback, link-local, private or unspecified address unless
// the team may reach them: a webhook is a request the shifter makes from
// inside the network, and 169.254.169.254 holds its credentials.
func checkWebhook(b Bounds, team, webhook string) error {
	if webhook == "" {
		return nil
	}
	u, err := url.Parse(webhook)
	if err != nil {
		return rollout.Invalid("notifications.webhook_url", "does not parse as a URL")
	}
	host := strings.ToLower(u.Hostname())
	if !within(b.WebhookHosts, host, true) {
		return forbidden("notifications.webhook_url", "team %q may send webhooks to hosts matching %s only", team, strings.Join(b.WebhookHosts, ", "))
	}
	if !b.AllowPrivateWebhooks && rollout.PrivateHost(host) {
		return forbidden("notifications.webhook_url", "%s is a loopback, link-local or private address, which webhooks may not reach unless the shifter's configuration allows it (allow_private_webhooks)", host)
	}
	return nil
}

// within reports whether value matches one of patterns (any value when
// there are none); hosts compare without case.
func within(patterns []string, value string, host bool) bool {
	if len(patterns) == 0 {
		return true
	}
	if host {
		value = strings.ToLower(value)
	}
	return slices.ContainsFunc(patterns, func(p string) bool {
		if host {
			p = strings.ToLower(p)
		}
		return rollout.GlobMatch(p, value)
	})
}

// checkOverlap refuses an endpoint whose rules would take another
// endpoint's traffic, or use its priority, on the same listener (409 naming
// the field). It names the other endpoint only to a caller who may see it.
func (s *Server) checkOverlap(ctx context.Context, p *Principal, ep rollout.Endpoint) error {
	others, err := s.Store.ListEndpoints(ctx)
	if err != nil {
		return err
	}
	if err := checkSlots(p, ep, others); err != nil {
		return err
	}
	for _, track := range ep.Traffic.Tracks() {
		mine := ep.Traffic.Rule(track)
		for _, other := range others {
			if other.Name == ep.Name {
				continue
			}
			for _, theirs := range other.Traffic.Tracks() {
				rule := other.Traffic.Rule(theirs)
				field, what := "", ""
				switch {
				case ep.Traffic.NLB != nil && rule.Listener == mine.Listener:
					field, what = "traffic.nlb.port", fmt.Sprintf("port %d of the same Network Load Balancer, whose listener one endpoint owns", ep.Traffic.NLB.Port)
				case ep.Traffic.Route53 != nil && rule.Listener == mine.Listener:
					field, what = "traffic.route53.name", "the same record name in the same hosted zone, whose weighted records one endpoint owns"
				case rule.Listener == mine.Listener && rule.Priority == mine.Priority:
					field, what = priorityField(track), fmt.Sprintf("priority %d on the same listener", mine.Priority)
				case mine.Overlaps(rule):
					field, what = conditionsField(track, ep.Traffic), "hosts and paths that overlap on the same listener, so one would take the other's requests"
				default:
					continue
				}
				whose := "another endpoint"
				if p.sees(other.Name, other.Team) {
					whose = fmt.Sprintf("endpoint %q (%s route)", other.Name, theirs)
				}
				return &rollout.Error{Code: rollout.ECONFLICT, Field: field, Message: fmt.Sprintf("has %s as %s", what, whose)}
			}
		}
	}
	return nil
}

func priorityField(track rollout.Track) string {
	if track == rollout.Preview {
		return "traffic.preview_priority"
	}
	return "traffic.priority"
}

// checkRoute53 refuses a record name outside the team's hosts, and slot
// listeners outside its listeners. A team bounded by path prefixes may route
// no record: a record takes every path of its name.
func (b Bounds) checkRoute53(team string, r rollout.Route53Traffic) error {
	name := strings.TrimSuffix(r.Name, ".")
	if len(b.PathPrefixes) > 0 {
		return forbidden("traffic.route53.name", "team %q may route only paths beginning with %s, and a record takes every path of its name", team, strings.Join(b.PathPrefixes, ", "))
	}
	if len(b.Hosts) > 0 && !within(b.Hosts, name, true) {
		return forbidden("traffic.route53.name", "team %q may route only hosts matching %s", team, strings.Join(b.Hosts, ", "))
	}
	for i, l := range r.Listeners {
		if !within(b.Listeners, l, false) {
			return forbidden(fmt.Sprintf("traffic.route53.listeners[%d]", i), "team %q may route only listeners matching %s", team, strings.Join(b.Listeners, ", "))
		}
	}
	return nil
}

// checkSlots refuses a listener that is one endpoint's Route 53 slot, whose
// default action that endpoint owns, and any other endpoint's listener too
// (409 naming the field).
func checkSlots(p *Principal, ep rollout.Endpoint, others []rollout.Endpoint) error {
	// listeners names the field of each listener an endpoint routes on.
	listeners := func(e rollout.Endpoint) map[string]string {
		out := map[string]string{}
		t := e.Traffic
		for field, arn := range map[string]string{"traffic.listener_arn": t.ListenerARN, "traffic.preview_listener_arn": t.PreviewListenerARN} {
			if arn != "" {
				out[arn] = field
			}
		}
		if t.Route53 != nil {
			for i, l := range t.Route53.Listeners {
				out[l] = fmt.Sprintf("traffic.route53.listeners[%d]", i)
			}
		}
		return out
	}
	mine := listeners(ep)
	for _, other := range others {
		if other.Name == ep.Name || (ep.Traffic.Route53 == nil && other.Traffic.Route53 == nil) {
			continue
		}
		theirs := listeners(other)
		for _, arn := range slices.Sorted(maps.Keys(mine)) {
			if _, ok := theirs[arn]; !ok {
				continue
			}
			whose := "another endpoint"
			if p.sees(other.Name, other.Team) {
				whose = fmt.Sprintf("endpoint %q", other.Name)
			}
			return &rollout.Error{Code: rollout.ECONFLICT, Field: mine[arn], Message: fmt.Sprintf("is a listener %s routes on, and a Route 53 slot's default action is one endpoint's alone", whose)}
		}
	}
	return nil
}

// checkNLB refuses an NLB load balancer outside the team's listeners: the
// listener the shifter would create on it must match them, so a team's
// bounds name a load balancer's listeners with a pattern such as
// arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/net/NAME/ID/*. A team
// bounded by hosts or paths alone may route no NLB: a listener's default
// action takes every connection, whatever its host or path.
func (b Bounds) checkNLB(team string, nlb rollout.NLBTraffic) error {
	if len(b.Listeners) == 0 && (len(b.Hosts) > 0 || len(b.PathPrefixes) > 0) {
		return forbidden("traffic.nlb.load_balancer_arn", "team %q is bounded by hosts and paths, which a Network Load Balancer listener does not route by: its bounds must name the listeners it may route", team)
	}
	// Any listener of the load balancer: its ID is AWS's to give.
	listener := strings.Replace(nlb.LoadBalancerARN, ":loadbalancer/", ":listener/", 1) + "/*"
	if !within(b.Listeners, listener, false) {
		return forbidden("traffic.nlb.load_balancer_arn", "team %q may route only listeners matching %s, and the shifter's listeners on this load balancer would be %s", team, strings.Join(b.Listeners, ", "), listener)
	}
	return nil
}

// conditionsField names the conditions of a track's rule that overlap:
// the preview host, the hosts, or the paths of a rule without hosts.
func conditionsField(track rollout.Track, t rollout.Traffic) string {
	switch {
	case track == rollout.Preview && t.PreviewHost != "":
		return "traffic.preview_host"
	case len(t.Hosts) == 0:
		return "traffic.paths"
	}
	return "traffic.hosts"
}
