package aws

// Tag keys on every AWS resource the shifter creates. They say which
// endpoint, version and shifter a resource belongs to, so that an orphan scan
// can find and attribute anything a crash left behind (DESIGN §4.5).
const (
	TagEndpoint    = "ionroller:endpoint"
	TagVersion     = "ionroller:version"
	TagEnvironment = "ionroller:environment"
	TagTrack       = "ionroller:track"
	TagShifter     = "ionroller:shifter"
	// TagRole marks a resource with a part to play, such as a route's
	// standby rule.
	TagRole = "ionroller:role"
)
