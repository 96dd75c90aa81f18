package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a number of events allowed per period, such as 10 login attempts
// a minute.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate parses N/UNIT, where UNIT is s, m or h ("10/m", "5/s",
// "100/h") or a Go duration ("20/30s").
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %q (want N/s, N/m or N/h, e.g. 10/m)", s)
	}
	r := Rate{}
	var err error
	if r.N, err = strconv.Atoi(n); err != nil || r.N < 1 {
		return Rate{}, fmt.Errorf("invalid rate %q: the count must be a whole number of at least 1", s)
	}
	switch per {
	case "s":
		r.Per = time.Second
	case "m":
		r.Per = time.Minute
	case "h":
		r.Per = time.Hour
	default:
		if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
			return Rate{}, fmt.Errorf("invalid rate %q: the period must be s, m, h or a positive duration such as 30s", s)
		}
	}
	return r, nil
}

// String returns r in the form ParseRate reads.
func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.N)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}
