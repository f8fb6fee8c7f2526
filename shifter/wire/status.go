package wire

import (
	"net/http"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// codeStatuses pairs each error code with the HTTP status that carries it,
// one table for both directions.
var codeStatuses = [...]struct {
	code   string
	status int
}{
	{rollout.EINVALID, http.StatusBadRequest},
	{rollout.ENOTFOUND, http.StatusNotFound},
	{rollout.ECONFLICT, http.StatusConflict},
	{rollout.EUNAUTHORIZED, http.StatusUnauthorized},
	{rollout.EFORBIDDEN, http.StatusForbidden},
	{rollout.ETOOMANY, http.StatusTooManyRequests},
	{rollout.EINTERNAL, http.StatusInternalServerError},
}

// ErrorStatus returns the HTTP status that carries an error code; an
// unknown code is an internal error.
func ErrorStatus(code string) int {
	for _, cs := range codeStatuses {
		if cs.code == code {
			return cs.status
		}
	}
	return http.StatusInternalServerError
}

// StatusErrorCode returns the error code an HTTP status stands for. The
// client uses it when an answer carries no code of its own, as from the
// HTTP server itself (413, 412) or a proxy.
func StatusErrorCode(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return rollout.EINVALID
	case http.StatusPreconditionFailed:
		return rollout.ECONFLICT
	}
	for _, cs := range codeStatuses {
		if cs.status == status {
			return cs.code
		}
	}
	return rollout.EINTERNAL
}
