package aws

import "github.com/ionroller/terraform-provider-ionroller/shifter/aws/tags"

// Tag keys on every AWS resource the shifter creates (package tags says why).
const (
	TagEndpoint    = tags.Endpoint
	TagVersion     = tags.Version
	TagEnvironment = tags.Environment
	TagTrack       = tags.Track
	TagShifter     = tags.Shifter
	TagRole        = tags.Role
)
