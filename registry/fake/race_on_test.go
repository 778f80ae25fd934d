//go:build race

package fake_test

// raceEnabled says the race detector is on: it makes big inputs slow, and
// the heap figures of some tests larger.
const raceEnabled = true
