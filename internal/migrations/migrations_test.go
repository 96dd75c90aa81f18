package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"m/0002_two.sql": {Data: []byte("two")},
		"m/0001_one.sql": {Data: []byte("one")},
		"m/0010_ten.sql": {Data: []byte("ten")},
	}, "m/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if strings.Join(got, ",") != "0001_one.sql=one,0002_two.sql=two,0010_ten.sql=ten" {
		t.Fatalf("order %v", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":     {"m/one.sql": {}},
		"zero":         {"m/0000_zero.sql": {}},
		"same version": {"m/0001_a.sql": {}, "m/01_b.sql": {}},
	} {
		if _, err := Load(fsys, "m/*.sql"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
