//go:build !linux

package password

import "errors"

// setThreadNice does nothing where a thread's priority cannot be set
// alone: hashing threads run at the program's priority.
func setThreadNice(int) {}

func threadNice() (int, error) { return 0, errors.New("thread priority not supported") }
