package password

import (
	"os"
	"syscall"
)

// threadPriorities says that one thread's priority can be set here.
const threadPriorities = true

// setThreadNice sets the nice value of the calling thread: on Linux,
// PRIO_PROCESS with a thread id names that one thread. Raising it needs
// no privilege; an error leaves the thread at its priority.
func setThreadNice(n int) {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), n)
}

// threadNice returns the nice value of the calling thread.
func threadNice() (int, error) {
	// The raw getpriority syscall returns 20 - nice.
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - p, err
}

// isMainThread reports whether the calling thread is the process's first.
func isMainThread() bool { return syscall.Gettid() == os.Getpid() }
