package aws

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ForeignError says that what holds a route's place on a load balancer (a
// rule at its priority, a listener on its port) is not this shifter's for
// that route. A router never changes it.
type ForeignError struct {
	Route string
	// Resource says what holds the place: "rule ARN at that priority".
	Resource string
	// Owner describes the resource's ionroller tags, empty if it has none.
	Owner string
}

func (e *ForeignError) Error() string {
	owner := "is not ionroller's"
	if e.Owner != "" {
		owner = "belongs to " + e.Owner
	}
	return fmt.Sprintf("route %s: %s %s", e.Route, e.Resource, owner)
}

// CheckOwner checks that tags carry the value want gives each key: nil if
// they do, a *ForeignError naming the owner the tags say otherwise.
func CheckOwner(route, resource string, tags, want map[string]string) error {
	mine := true
	for k, v := range want {
		mine = mine && tags[k] == v
	}
	if mine {
		return nil
	}
	var owner string
	if tags[TagShifter] != "" {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(want)) {
			parts = append(parts, strings.TrimPrefix(k, "ionroller:")+" "+tags[k])
		}
		owner = strings.Join(parts, ", ")
	}
	return &ForeignError{Route: route, Resource: resource, Owner: owner}
}
