package jot

// DBStats is a snapshot of a store's connections, for metrics. A store
// that keeps a pool of connections to a database server (PostgreSQL) has
// a Stats method returning it.
type DBStats struct {
	// AcquiredConns are the connections in use by a call now.
	AcquiredConns int
	// IdleConns are the open connections waiting for a call.
	IdleConns int
	// TotalConns are the open connections, plus those being opened.
	TotalConns int
	// MaxConns is the pool size.
	MaxConns int
	// WaitedAcquires counts the calls, since the store opened, that found
	// no idle connection and had to wait for one.
	WaitedAcquires int64
	// CanceledAcquires counts the calls whose wait for a connection ended
	// with their context (the store's timeout, or a caller gone).
	CanceledAcquires int64
	// ListenerUp reports whether the store is listening for other
	// instances' notifications now.
	ListenerUp bool
	// ListenerReconnects counts the times the listener listened again
	// after losing its connection.
	ListenerReconnects int64
}
