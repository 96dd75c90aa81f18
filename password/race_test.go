//go:build race

package password

// raceEnabled: the race detector makes bcrypt about thirty times slower.
const raceEnabled = true
