// Package tags names the tags on every AWS resource the shifter creates. It
// is a leaf, so that the shifter's IAM policy (package iampolicy), which the
// provider builds too, conditions on the same keys without linking the SDK.
package tags

// Keys on every AWS resource the shifter creates. They say which endpoint,
// version and shifter a resource belongs to, so that an orphan scan can find
// and attribute anything a crash left behind (DESIGN §4.5), and so that the
// shifter's IAM policy lets it change only what it created.
const (
	Endpoint    = "ionroller:endpoint"
	Version     = "ionroller:version"
	Environment = "ionroller:environment"
	Track       = "ionroller:track"
	Shifter     = "ionroller:shifter"
	// Role marks a resource with a part to play, such as a route's
	// standby rule.
	Role = "ionroller:role"
)
