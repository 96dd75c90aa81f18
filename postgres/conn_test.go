package postgres

import (
	"context"
	"testing"
	"time"
)

// Every connection, the listener's included, names itself jot in
// pg_stat_activity, unless the URL names it otherwise.
func TestApplicationName(t *testing.T) {
	for _, tc := range []struct{ param, want string }{{"", "jot"}, {"billing", "billing"}} {
		u := testURL(t)
		if tc.param != "" {
			u = withParam(t, u, "application_name", tc.param)
		}
		db, err := OpenWith(context.Background(), u, Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.pool.QueryRow(context.Background(), "SELECT current_setting('application_name')").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("application_name %q, want %q", got, tc.want)
		}
		if got := db.pool.Config().ConnConfig.RuntimeParams["application_name"]; got != tc.want {
			t.Errorf("listener's application_name %q, want %q", got, tc.want)
		}
		if got := db.pool.Config().ConnConfig.ConnectTimeout; got != 5*time.Second {
			t.Errorf("connect timeout %v, want the store's 5s", got)
		}
		db.Close()
	}
}
