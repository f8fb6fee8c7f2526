package api

import (
	"io"
	"net/http"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// backup streams a consistent copy of the store (GET /v1/store/backup,
// what `shifter store backup` calls) while the shifter serves. The copy
// holds every team's endpoints, so only an admin of every team may take it.
func (s *Server) backup(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if p.Team != "" || len(p.Endpoints) > 0 {
		return rollout.Errorf(rollout.EFORBIDDEN, "%s is limited to some endpoints; a backup holds every endpoint, so it needs an admin token of no team", p.Name)
	}
	if s.Backup == nil {
		return rollout.Errorf(rollout.ECONFLICT, "this shifter's store is a DynamoDB table: back it up with DynamoDB's own backups")
	}
	// A large store takes longer than the write timeout meant for answers.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	n, err := s.Backup(w)
	if err != nil {
		// The status is sent: all that is left is to say so in the log;
		// the client sees a short copy that fails its check.
		s.Logger.Error("store backup failed", "by", p.Name, "after_bytes", n, "error", err)
		return nil
	}
	s.Logger.Info("store backup taken", "by", p.Name, "bytes", n, "remote", r.RemoteAddr)
	return nil
}

// BackupFunc writes a consistent copy of the store to w and returns the
// bytes written.
type BackupFunc func(w io.Writer) (int64, error)
