//go:build race

package cli_test

// raceEnabled is whether the tests run with the race detector, so that the
// binary they run is built with it too.
const raceEnabled = true
