package password

// ThreadNice returns the nice value of the calling thread, for tests.
var ThreadNice = threadNice

// IsMainThread reports whether the calling thread is the process's first.
var IsMainThread = isMainThread
