package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jotauth/jot/api"
	"github.com/jotauth/jot/config"
)

// sideServer is a listener beside the API's: metrics or pprof.
type sideServer struct {
	name string
	srv  *http.Server
	ln   net.Listener
}

// sideServers opens the listeners of JOT_METRICS_ADDR and JOT_PPROF_ADDR
// (those set), before anything is served, so a taken port stops the start
// with the setting's name.
func sideServers(cfg *config.Config, server *api.Server, log *slog.Logger) ([]*sideServer, error) {
	var out []*sideServer
	closeAll := func() {
		for _, s := range out {
			s.ln.Close()
		}
	}
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", server.MetricsHandler())
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("JOT_METRICS_ADDR: %w", err)
		}
		srv := api.NewHTTPServer(mux)
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		out = append(out, &sideServer{name: "metrics", srv: srv, ln: ln})
	}
	if cfg.PprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		ln, err := net.Listen("tcp", cfg.PprofAddr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("JOT_PPROF_ADDR: %w", err)
		}
		// No write timeout: a CPU profile or trace streams for as many
		// seconds as the operator asks.
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		out = append(out, &sideServer{name: "pprof", srv: srv, ln: ln})
	}
	return out, nil
}

// serveSide serves each side listener until shutdown, announcing where.
func serveSide(side []*sideServer, log *slog.Logger, stdout io.Writer) {
	for _, s := range side {
		go func() { _ = s.srv.Serve(s.ln) }()
		log.Info("jot "+s.name+" listening", "addr", "http://"+s.ln.Addr().String())
		fmt.Fprintf(stdout, "jot %s listening on http://%s\n", s.name, s.ln.Addr())
	}
}

// shutdownSide stops the side listeners; nothing there needs finishing.
func shutdownSide(ctx context.Context, side []*sideServer) {
	for _, s := range side {
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
	}
}
