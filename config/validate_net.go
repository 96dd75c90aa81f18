package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

func (c *Config) checkAddr() *SettingError {
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return bad("JOT_ADDR", "must be HOST:PORT or :PORT, got %q", c.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("JOT_ADDR", "port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}

// checkCORS holds origins to the exact form a browser sends in Origin
// (lowercase, no path, no default port), since anything else would never
// match and fail silently.
func (c *Config) checkCORS() *SettingError {
	const name = "JOT_CORS_ORIGINS"
	for _, o := range c.CORSOrigins {
		if o == "*" {
			if len(c.CORSOrigins) > 1 {
				return bad(name, "* must be the only origin when it is used")
			}
			if c.TokenCookie != "" {
				return bad(name, "* is allowed only without cookies, and JOT_TOKEN_COOKIE is set; list the origins instead")
			}
			continue
		}
		if p := originProblem(o); p != "" {
			return bad(name, "%q %s", o, p)
		}
	}
	return nil
}

func originProblem(o string) string {
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "is not an origin (want scheme://host[:port], e.g. https://app.example.com)"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must start with http:// or https://"
	case u.User != nil:
		return "must not contain user info"
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "must be scheme://host[:port] only, without a path (not even a trailing /)"
	case o != strings.ToLower(o):
		return "must be lowercase, as browsers send it"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "has an invalid port"
		}
		if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
			return "must not name the default port, as browsers leave it out"
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "has an empty port"
	}
	return ""
}

func (c *Config) checkTrustedProxies() *SettingError {
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			return bad("JOT_TRUSTED_PROXIES", "contains an invalid prefix")
		}
		if p != p.Masked() {
			return bad("JOT_TRUSTED_PROXIES", "%s has bits set after the prefix length; did you mean %s?", p, p.Masked())
		}
	}
	return nil
}

// listenAddrProblem says what is wrong with a listen address, "" if nothing.
func listenAddrProblem(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be HOST:PORT, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port must be a number from 0 to 65535, got %q", port)
	}
	return ""
}

func (c *Config) checkMetricsAddr() *SettingError {
	if c.MetricsAddr == "" {
		return nil
	}
	if p := listenAddrProblem(c.MetricsAddr); p != "" {
		return bad("JOT_METRICS_ADDR", "%s", p)
	}
	if c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		return bad("JOT_METRICS_ADDR", "must differ from JOT_ADDR (%s)", c.Addr)
	}
	return nil
}

// checkPprofAddr allows loopback only: pprof shows the program's memory
// and can be made to run profiles that slow it down, so it must never be
// reachable from the network.
func (c *Config) checkPprofAddr() *SettingError {
	if c.PprofAddr == "" {
		return nil
	}
	if p := listenAddrProblem(c.PprofAddr); p != "" {
		return bad("JOT_PPROF_ADDR", "%s", p)
	}
	host, _, _ := net.SplitHostPort(c.PprofAddr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return bad("JOT_PPROF_ADDR", "must be a loopback address such as 127.0.0.1:6060 (pprof exposes the process's memory), got %q", c.PprofAddr)
	}
	if !strings.HasSuffix(c.PprofAddr, ":0") && (c.PprofAddr == c.Addr || c.PprofAddr == c.MetricsAddr) {
		return bad("JOT_PPROF_ADDR", "must differ from JOT_ADDR and JOT_METRICS_ADDR")
	}
	return nil
}
