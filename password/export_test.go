package password

// ThreadNice returns the nice value of the calling thread, for tests.
var ThreadNice = threadNice
