//go:build race

package rules

// raceEnabled: the race detector adds allocations and makes sync.Pool drop items at random.
const raceEnabled = true
