//go:build !linux

package password

import "errors"

// threadPriorities says that one thread's priority cannot be set here:
// hashes run on the caller's goroutine.
const threadPriorities = false

// setThreadNice does nothing where a thread's priority cannot be set
// alone: hashing threads run at the program's priority.
func setThreadNice(int) {}

func threadNice() (int, error) { return 0, errors.New("thread priority not supported") }

func isMainThread() bool { return false }
