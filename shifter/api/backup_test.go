package api_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// TestBackupNeedsAnAdminOfEveryTeam: the copy holds every team's
// endpoints, so a team's admin may not take it; a shared table has no file
// to copy.
func TestBackupNeedsAnAdminOfEveryTeam(t *testing.T) {
	f := newFixture(t, func(s *api.Server) {
		s.Backup = func(w io.Writer) (int64, error) {
			n, err := io.WriteString(w, "a consistent copy")
			return int64(n), err
		}
	})
	resp := f.do("GET", "/v1/store/backup", root, nil)
	resp.must(t, http.StatusOK, nil)
	if string(resp.body) != "a consistent copy" || resp.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("backup = %s %q", resp.header.Get("Content-Type"), resp.body)
	}
	f.do("GET", "/v1/store/backup", principalName("payments", wire.RoleAdmin), nil).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)
	f.do("GET", "/v1/store/backup", principalName("payments", wire.RoleDeploy), nil).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)

	shared := newFixture(t)
	shared.do("GET", "/v1/store/backup", root, nil).apiError(t, http.StatusConflict, rollout.ECONFLICT)
}
