package wire

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// ETag returns the entity tag of an object at revision rev. The same form is
// accepted in If-Match, so a client can echo what it read.
func ETag(rev int64) string { return strconv.Quote(strconv.FormatInt(rev, 10)) }

// Preconditions returns the headers that make a write expect revision:
// If-Match with its ETag, If-None-Match: * for rollout.RevisionNew, none for
// rollout.RevisionAny. ExpectedRevision reads them back.
func Preconditions(revision int64) http.Header {
	switch revision {
	case rollout.RevisionAny:
		return nil
	case rollout.RevisionNew:
		return http.Header{"If-None-Match": {"*"}}
	default:
		return http.Header{"If-Match": {ETag(revision)}}
	}
}

// ExpectedRevision returns the revision a write expects from its
// preconditions: If-Match "N" (quoted, weak or bare) expects N,
// If-None-Match * a new object (rollout.RevisionNew), and neither expects
// nothing (rollout.RevisionAny).
func ExpectedRevision(h http.Header) (int64, error) {
	match, noneMatch := h.Get("If-Match"), h.Get("If-None-Match")
	switch {
	case match != "" && noneMatch != "":
		return 0, rollout.Invalid("If-Match", "give If-Match or If-None-Match, not both")
	case noneMatch != "":
		if strings.TrimSpace(noneMatch) != "*" {
			return 0, rollout.Invalid("If-None-Match", "only * is supported (create, never replace); got %q", noneMatch)
		}
		return rollout.RevisionNew, nil
	case match != "":
		tag := strings.TrimPrefix(strings.TrimSpace(match), "W/")
		if unquoted, err := strconv.Unquote(tag); err == nil {
			tag = unquoted
		}
		rev, err := strconv.ParseInt(tag, 10, 64)
		if err != nil || rev < 1 {
			return 0, rollout.Invalid("If-Match", "must be a revision such as \"3\", as in the ETag of a read; got %q", match)
		}
		return rev, nil
	}
	return rollout.RevisionAny, nil
}
