package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/jotauth/jot/password"
)

// holdWorkers runs n jobs of class Login on p, each holding a worker until
// release is called; started receives one value per job that starts.
func holdWorkers(p *password.Pool, n int) (started chan struct{}, release func()) {
	started = make(chan struct{}, n)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_ = p.Run(context.Background(), func() {
				started <- struct{}{}
				<-done
			})
		})
	}
	return started, func() { close(done); wg.Wait() }
}

func waitPending(p *password.Pool, n int) {
	for p.Pending() != n {
		runtime.Gosched()
	}
}

// TestHashingShareFollowsRequests: while a request that does not hash is
// in flight, hashing gets only the pool's share of its workers; once it
// ends, all of them. A login waiting for a worker does not count as such a
// request, so logins alone use every worker.
func TestHashingShareFollowsRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("share@example.com", "pass-phrase-1")
	pool := e.app.HashingForTest()
	if pool == nil {
		t.Fatal("the server has no hashing pool")
	}
	all, share := pool.Workers()
	if all == share {
		t.Skipf("%d workers, share %d: nothing to tell apart on this machine", all, share)
	}

	// A protected-style request in flight: the handler holds it.
	entered, leave := make(chan struct{}), make(chan struct{})
	h := e.app.WrapForTest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-leave
	}))
	served := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/users/me", nil))
		close(served)
	}()
	<-entered
	started, release := holdWorkers(pool, all)
	waitPending(pool, all)
	for range share {
		<-started
	}
	if got := pool.Running(); got != share {
		t.Errorf("with a request in flight: %d hashing, want the share %d", got, share)
	}
	close(leave)
	<-served
	for range all - share {
		<-started
	}
	if got := pool.Running(); got != all {
		t.Errorf("with no request in flight: %d hashing, want all %d", got, all)
	}
	release()

	// Every worker held, then a login queues: freeing one worker lets it
	// run while the others stay held, as a login is not a request the pool
	// must make room for. (Were it counted, the pool would keep the freed
	// worker idle and the server would answer 503 after its wait.)
	dones := make([]chan struct{}, all)
	started = make(chan struct{}, all)
	var wg sync.WaitGroup
	for i := range dones {
		d := make(chan struct{})
		dones[i] = d
		wg.Go(func() {
			_ = pool.Run(context.Background(), func() {
				started <- struct{}{}
				<-d
			})
		})
	}
	for range all {
		<-started
	}
	login := make(chan int)
	go func() {
		r := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "share@example.com", "password": "pass-phrase-1"})
		login <- r.StatusCode
	}()
	waitPending(pool, all+1)
	close(dones[0])
	if status := <-login; status != http.StatusOK {
		t.Errorf("login with one worker freed: %d, want 200", status)
	}
	for _, d := range dones[1:] {
		close(d)
	}
	wg.Wait()
}

// TestLoginNotQueuedBehindSignups: with every hashing worker held, a
// flood of signups queues, then one login; when the workers free up the
// login is served in its turn, not after the signups.
func TestLoginNotQueuedBehindSignups(t *testing.T) {
	e := newEnv(t, nil)
	e.signup("turn@example.com", "pass-phrase-1")
	pool := e.app.HashingForTest()
	all, _ := pool.Workers()
	started, release := holdWorkers(pool, all)
	for range all {
		<-started
	}
	const signups = 4 * 4
	var mu sync.Mutex
	signedUp := 0
	var wg sync.WaitGroup
	for i := range signups {
		wg.Go(func() {
			r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "flood" + strconv.Itoa(i) + "@example.com", "password": "pass-phrase-1"})
			if r.StatusCode != http.StatusCreated {
				t.Errorf("signup: %d %s", r.StatusCode, r.body)
			}
			mu.Lock()
			signedUp++
			mu.Unlock()
		})
		waitPending(pool, all+i+1)
	}
	login := make(chan int, 1)
	wg.Go(func() {
		r := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "turn@example.com", "password": "pass-phrase-1"})
		mu.Lock()
		ahead := signedUp
		mu.Unlock()
		// In turn, the login hashes first or second; the slack is for
		// signups that finish while the login writes its session.
		if ahead >= signups/2 {
			t.Errorf("%d of %d queued signups finished before the login queued after them; want fewer than %d", ahead, signups, signups/2)
		}
		login <- r.StatusCode
	})
	waitPending(pool, all+signups+1)
	release()
	if status := <-login; status != http.StatusOK {
		t.Errorf("login: %d, want 200", status)
	}
	wg.Wait()
}
