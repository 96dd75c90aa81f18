package password

import "runtime"

// onLowPriorityThread runs fn on an OS thread of its own, with the given
// nice value where the system can set one thread's priority, and returns
// when fn has; a panic in fn is raised again in the caller. The kernel
// then runs the rest of the program first whenever both want a core, at
// once, rather than after the Go scheduler's preemption interval (about
// 10 ms); idle cycles still go to fn. The thread ends with fn (a goroutine
// that exits while locked to its thread takes the thread with it), so no
// thread of lowered priority is ever reused for other work; a thread costs
// tens of microseconds, a hash tens of milliseconds.
func onLowPriorityThread(nice int, fn func()) {
	done := make(chan any, 1)
	go func() {
		var panicked any
		defer func() { done <- panicked }()
		defer func() { panicked = recover() }()
		runtime.LockOSThread()
		if isMainThread() {
			// The runtime never ends the main thread, and its priority
			// is the one the process shows: leave it as it is.
			defer runtime.UnlockOSThread()
		} else {
			setThreadNice(nice)
		}
		fn()
	}()
	if p := <-done; p != nil {
		panic(p)
	}
}
