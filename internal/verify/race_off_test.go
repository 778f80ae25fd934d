//go:build !race

package verify

// raceEnabled says the race detector is on.
const raceEnabled = false
