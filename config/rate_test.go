package config

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
		str     string
	}{
		{in: "10/m", want: Rate{10, time.Minute}, str: "10/m"},
		{in: "5/s", want: Rate{5, time.Second}, str: "5/s"},
		{in: "100/h", want: Rate{100, time.Hour}, str: "100/h"},
		{in: "1/m", want: Rate{1, time.Minute}, str: "1/m"},
		{in: " 20/30s ", want: Rate{20, 30 * time.Second}, str: "20/30s"},
		{in: "3/1m", want: Rate{3, time.Minute}, str: "3/m"},
		{in: "0/m", wantErr: true},
		{in: "-1/m", wantErr: true},
		{in: "10", wantErr: true},
		{in: "10/", wantErr: true},
		{in: "/m", wantErr: true},
		{in: "10/d", wantErr: true},
		{in: "10/min", wantErr: true},
		{in: "ten/m", wantErr: true},
		{in: "10/m/s", wantErr: true},
		{in: "10/0s", wantErr: true},
		{in: "10/-1m", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseRate(%q) = %v, want an error", tt.in, r)
			}
			continue
		}
		if err != nil || r != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, r, err, tt.want)
			continue
		}
		if r.String() != tt.str {
			t.Errorf("ParseRate(%q).String() = %q, want %q", tt.in, r.String(), tt.str)
		}
		if back, err := ParseRate(r.String()); err != nil || back != r {
			t.Errorf("ParseRate(%q) round trip = %v, %v", r.String(), back, err)
		}
	}
}
