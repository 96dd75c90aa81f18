package jottest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// ProxyMode is how a Proxy treats connections.
type ProxyMode int

// The modes of a Proxy.
const (
	// Pass forwards bytes both ways.
	Pass ProxyMode = iota
	// Refuse stops listening, so new connections are refused, and resets
	// the open ones: a database that is down.
	Refuse
	// Blackhole accepts new connections but never connects them on, and
	// drops every byte in either direction of every connection without a
	// word: a database behind a network that silently lost it.
	Blackhole
)

func (m ProxyMode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Refuse:
		return "refuse"
	case Blackhole:
		return "blackhole"
	}
	return "unknown"
}

// Proxy is a TCP proxy on loopback in front of a server (a database), that
// a test switches between passing, refusing and blackholing, to see how an
// application behaves when its database fails while the database itself is
// left untouched.
type Proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu     sync.Mutex
	mode   ProxyMode
	ln     net.Listener
	pairs  map[*proxyPair]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxyPair is one client connection and, unless it was accepted while
// blackholing, its connection to the target.
type proxyPair struct {
	client, server net.Conn
	// holed is set once bytes were dropped: the streams no longer line
	// up, so the pair cannot be passed again.
	holed bool
}

// NewProxy starts a proxy to target (host:port) in Pass mode; it stops when
// tb ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{tb: tb, target: target, addr: ln.Addr().String(), ln: ln, pairs: map[*proxyPair]struct{}{}}
	p.wg.Add(1)
	go p.accept(ln)
	tb.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Mode returns the current mode.
func (p *Proxy) Mode() ProxyMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Set switches the proxy to mode. Leaving Blackhole resets the
// connections whose bytes were dropped; entering Refuse resets all.
func (p *Proxy) Set(mode ProxyMode) {
	p.tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || mode == p.mode {
		return
	}
	switch mode {
	case Refuse:
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		for pr := range p.pairs {
			pr.reset()
		}
	case Pass, Blackhole:
		if mode == Pass {
			for pr := range p.pairs {
				if pr.holed || pr.server == nil {
					pr.reset()
				}
			}
		}
		if mode == Blackhole {
			for pr := range p.pairs {
				pr.holed = true
			}
		}
		if p.ln == nil {
			ln, err := listenAgain(p.addr)
			if err != nil {
				p.tb.Fatalf("proxy: listen again on %s: %v", p.addr, err)
			}
			p.ln = ln
			p.wg.Add(1)
			go p.accept(ln)
		}
	}
	p.mode = mode
}

// listenAgain listens on the address the proxy had, retrying a moment in
// case the old socket has not quite gone.
func listenAgain(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
	}
	for pr := range p.pairs {
		pr.reset()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		pr := &proxyPair{client: c, holed: p.mode == Blackhole}
		p.pairs[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(pr)
	}
}

// serve connects pr on (unless it is held in the hole) and copies both ways
// until either side ends.
func (p *Proxy) serve(pr *proxyPair) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.pairs, pr)
		p.mu.Unlock()
		pr.client.Close()
		if pr.server != nil {
			pr.server.Close()
		}
	}()
	p.mu.Lock()
	holed := pr.holed
	p.mu.Unlock()
	if holed {
		// Swallow whatever the client sends until it gives up.
		_, _ = io.Copy(io.Discard, pr.client)
		return
	}
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	if _, ok := p.pairs[pr]; !ok || p.closed {
		p.mu.Unlock()
		s.Close()
		return
	}
	pr.server = s
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(pr, s, pr.client); done <- struct{}{} }()
	go func() { p.copy(pr, pr.client, s); done <- struct{}{} }()
	<-done
	// One side ended: end the other, and wait for its copy to stop.
	pr.client.Close()
	s.Close()
	<-done
}

// copy moves bytes from src to dst, dropping them while pr is holed.
func (p *Proxy) copy(pr *proxyPair, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			holed := pr.holed
			p.mu.Unlock()
			if !holed {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			return
		}
	}
}

// reset ends the pair abruptly: the client sees a connection reset, not a
// polite close. The caller holds the proxy's lock.
func (pr *proxyPair) reset() {
	if tc, ok := pr.client.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	pr.client.Close()
	if pr.server != nil {
		pr.server.Close()
	}
}
