// Command bare is the baseline of bench/run: a net/http server that
// answers every request with a fixed JSON body the size of a user, so the
// cost of the HTTP stack alone is measured beside jot's.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
)

var body = []byte(`{"id":"0190ffff-dead-7bee-8000-00000000abcd","email":"bench@example.com","name":"","role":"user","disabled":false,"created_at":"2026-11-25T10:00:00Z","updated_at":"2026-11-25T10:00:00Z"}` + "\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	n := strconv.Itoa(len(body))
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{n}
		w.Write(body)
	})))
}
