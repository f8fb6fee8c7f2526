package wire_test

import (
	"net/http"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func TestErrorCodesAndStatusesMapBothWays(t *testing.T) {
	for _, code := range []string{rollout.EINVALID, rollout.ENOTFOUND, rollout.ECONFLICT, rollout.EUNAUTHORIZED, rollout.EFORBIDDEN, rollout.ETOOMANY, rollout.EINTERNAL} {
		status := wire.ErrorStatus(code)
		if got := wire.StatusErrorCode(status); got != code {
			t.Errorf("%s -> %d -> %s", code, status, got)
		}
	}
	if got := wire.StatusErrorCode(http.StatusBadGateway); got != rollout.EINTERNAL {
		t.Errorf("502 -> %s, want internal", got)
	}
}

// TestPreconditionsAreReadBack: the headers a client sends for a revision
// are read by the server as that revision.
func TestPreconditionsAreReadBack(t *testing.T) {
	for _, rev := range []int64{rollout.RevisionAny, rollout.RevisionNew, 1, 42} {
		got, err := wire.ExpectedRevision(wire.Preconditions(rev))
		if err != nil || got != rev {
			t.Errorf("revision %d came back as %d, %v", rev, got, err)
		}
	}
}

func TestExpectedRevisionReadsWhatPeopleWrite(t *testing.T) {
	for _, tc := range []struct {
		header http.Header
		want   int64
		field  string
	}{
		{http.Header{"If-Match": {`W/"3"`}}, 3, ""},
		{http.Header{"If-Match": {"3"}}, 3, ""},
		{http.Header{"If-Match": {`"0"`}}, 0, "If-Match"},
		{http.Header{"If-Match": {"*"}}, 0, "If-Match"},
		{http.Header{"If-None-Match": {`"3"`}}, 0, "If-None-Match"},
		{http.Header{"If-Match": {`"3"`}, "If-None-Match": {"*"}}, 0, "If-Match"},
	} {
		got, err := wire.ExpectedRevision(tc.header)
		if rollout.ErrorField(err) != tc.field || (err == nil && got != tc.want) {
			t.Errorf("%v: %d, %v; want %d with an error on %q", tc.header, got, err, tc.want, tc.field)
		}
	}
}
