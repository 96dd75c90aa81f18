package httpio

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// WriteJSON writes v as the JSON answer with the given status. HTML is not
// escaped: the answer is JSON, never a page, and says so.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"server_error","error_description":"internal error","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
