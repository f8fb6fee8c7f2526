package rollout

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Duration is a time.Duration that travels as a Go duration string ("90s",
// "5m", "1h30m"), the form people write in Terraform and in the CLI.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses a non-negative Go duration string.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"30s\", \"5m\" or \"1h\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Duration(v), nil
}

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reports what is not a duration as a *json.UnmarshalTypeError,
// which encoding/json completes with the path of the field, so the API can
// name it. A negative duration decodes: validation refuses it with its
// bounds, naming its place in a list too, which encoding/json does not.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Duration]()}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "duration " + s, Type: reflect.TypeFor[Duration]()}
	}
	*d = Duration(v)
	return nil
}

// DurationPtr is a convenience for optional durations such as a step's pause.
func DurationPtr(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}
