package rollout

import (
	"net"
	"strconv"
	"strings"
)

// Rule is the listener rule a track's requests arrive by: at Priority on Listener
// matching any of Hosts (every host when empty) and any of Paths (every path
// when empty). Host and path patterns take ALB's wildcards, * and ?.
type Rule struct {
	Listener string
	Priority int
	Hosts    []string
	Paths    []string
}

// Rule returns the rule of a track: the preview route is its host on the
// same listener, or the same conditions on a preview listener.
func (t Traffic) Rule(track Track) Rule {
	switch {
	case t.NLB != nil:
		// A listener's default action takes every connection: no
		// priority, hosts or paths, so any two routes of one listener
		// overlap. The shifter creates the listener: it is the load
		// balancer's port.
		return Rule{Listener: t.NLB.Key()}
	case t.Route53 != nil:
		// A record set takes every request for its name: two routes of
		// one name in one zone overlap.
		return Rule{Listener: "route53:" + t.Route53.HostedZoneID + ":" + strings.ToLower(strings.TrimSuffix(t.Route53.Name, "."))}
	}
	r := Rule{Listener: t.ListenerARN, Priority: t.Priority, Hosts: t.Hosts, Paths: t.Paths}
	if track == Preview {
		r.Priority = t.PreviewPriority
		if t.PreviewListenerARN != "" {
			r.Listener = t.PreviewListenerARN
		}
		if t.PreviewHost != "" {
			r.Hosts = []string{t.PreviewHost}
		}
	}
	return r
}

// Key identifies the listener of NLB traffic among all routes: its load
// balancer and port, which AWS gives one listener.
func (n NLBTraffic) Key() string { return "nlb:" + n.LoadBalancerARN + ":" + strconv.Itoa(n.Port) }

// Tracks returns the tracks the endpoint routes: production, and preview
// when it has a preview route.
func (t Traffic) Tracks() []Track {
	if t.HasPreview() {
		return []Track{Production, Preview}
	}
	return []Track{Production}
}

// Overlaps reports whether a request could match both rules: the same
// listener, and hosts and paths that may meet. Of two rules that overlap,
// the first takes the other's traffic.
func (r Rule) Overlaps(o Rule) bool {
	return r.Listener == o.Listener &&
		anyMayMeet(r.Hosts, o.Hosts, strings.ToLower) && anyMayMeet(r.Paths, o.Paths, func(s string) string { return s })
}

// anyMayMeet reports whether some pattern of a and some of b may match the
// same string; an empty list matches everything.
func anyMayMeet(a, b []string, norm func(string) string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if GlobsMayMeet(norm(x), norm(y)) {
				return true
			}
		}
	}
	return false
}

// GlobMatch reports whether s matches pattern, where * matches any run of
// characters (dots and slashes too, as in ALB's conditions) and ? any one.
func GlobMatch(pattern, s string) bool {
	// px, sx: where to resume after the last * (-1: none yet).
	p, i, px, sx := 0, 0, -1, -1
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p, i = p+1, i+1
		case p < len(pattern) && pattern[p] == '*':
			px, sx = p, i
			p++
		case px >= 0:
			sx++
			p, i = px+1, sx
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// GlobsMayMeet reports whether some string may match both patterns. It
// errs on the side of yes: two patterns with wildcards meet unless their
// fixed beginnings or fixed ends disagree.
func GlobsMayMeet(a, b string) bool {
	wildA, wildB := strings.ContainsAny(a, "*?"), strings.ContainsAny(b, "*?")
	switch {
	case !wildA && !wildB:
		return a == b
	case !wildB:
		return GlobMatch(a, b)
	case !wildA:
		return GlobMatch(b, a)
	}
	headA, headB := fixedHead(a), fixedHead(b)
	tailA, tailB := fixedTail(a), fixedTail(b)
	return (strings.HasPrefix(headA, headB) || strings.HasPrefix(headB, headA)) &&
		(strings.HasSuffix(tailA, tailB) || strings.HasSuffix(tailB, tailA))
}

// fixedHead is what a pattern's matches all begin with; fixedTail what
// they all end with.
func fixedHead(p string) string { return p[:strings.IndexAny(p, "*?")] }

func fixedTail(p string) string { return p[strings.LastIndexAny(p, "*?")+1:] }

// PrivateHost reports whether a webhook host names this machine or an
// address inside the network rather than the internet: localhost, or a
// loopback, link-local (169.254.169.254 holds an instance's credentials),
// private or unspecified address.
func PrivateHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}
