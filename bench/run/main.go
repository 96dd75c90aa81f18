// Command run is jot's load benchmark: it builds jot, a bare net/http
// server (bench/bare) and a guard.Remote service (bench/guardonly), starts
// them on loopback, drives each with wrk (Debian's package) in the same
// run, and prints requests per second, p50/p99 latency, server CPU per
// request (from /proc/PID/stat), RSS, and the ratio to bare.
//
//	go run ./bench/run                  # every workload, about 6 minutes on 2 cores
//	go run ./bench/run -d 3s -w4n 100000 # a shorter run
//
// Workloads: W1a the guard-only service, W1b GET /v1/users/me, W1c that
// with 10,000 users' tokens round-robin, and W4 (W1a and W1b again) over a
// database seeded with -w4n users and as many ended sessions, with jot's
// start time and the guard's first full pull of the revocation feed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var (
	dur     = flag.Duration("d", 8*time.Second, "duration of each wrk run")
	conns   = flag.Int("c", 64, "wrk connections")
	threads = flag.Int("t", 2, "wrk threads")
	w4n     = flag.Int("w4n", 1_000_000, "users and ended sessions seeded for W4 (0: skip W4)")
	users   = flag.Int("users", 10_000, "distinct users of W1c")
	src     = flag.String("src", ".", "the jot source tree to build jot and guardonly from (another checkout, to measure it)")
	tags    = flag.String("tags", "", "build tags for guardonly (jotbase for a tree without guard.TokenCache)")
	keep    = flag.Bool("keep", false, "keep the temporary folder")
)

const (
	jotAddr   = "127.0.0.1:18080"
	bareAddr  = "127.0.0.1:18090"
	guardAddr = "127.0.0.1:18091"
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	dir, err := os.MkdirTemp("", "jot-bench-")
	check(err)
	if !*keep {
		defer os.RemoveAll(dir)
	}
	bin := func(name string) string { return filepath.Join(dir, name) }
	build(*src, bin("jot"), "", "./cmd/jot")
	build(".", bin("bare"), "", "./bench/bare")
	guardSrc := "./bench/guardonly"
	if *src != "." {
		// The tree measured may not have bench/guardonly: build a copy of
		// this one's inside it, against its guard package.
		tmp := filepath.Join(*src, "bench", "guardonly-bench-copy")
		check(os.MkdirAll(tmp, 0o755))
		defer os.RemoveAll(tmp)
		for _, f := range []string{"main.go", "cache.go", "base.go"} {
			b, err := os.ReadFile(filepath.Join("bench/guardonly", f))
			check(err)
			check(os.WriteFile(filepath.Join(tmp, f), b, 0o644))
		}
		guardSrc = "./bench/guardonly-bench-copy"
	}
	build(*src, bin("guardonly"), *tags, guardSrc)

	keyFile, signer := makeKey(dir)
	lua := filepath.Join(dir, "w1c.lua")
	check(os.WriteFile(lua, []byte(w1cScript), 0o644))
	verifyUS := verifyTime(signer)

	fmt.Printf("# jot bench: %s, %d CPUs, %s, wrk -t%d -c%d -d%s\n", time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), runtime.Version(), *threads, *conns, *dur)
	fmt.Printf("# single-thread ES256 verify: %.1f µs → W1c target 0.9 × %d / verify = %.0f req/s\n", verifyUS, runtime.NumCPU(), 0.9*float64(runtime.NumCPU())/verifyUS*1e6)
	fmt.Printf("| workload | req/s | ratio to bare | p50 | p99 | server CPU/req | RSS after | non-2xx | load (1 min) |\n|---|---|---|---|---|---|---|---|---|\n")

	bare := start(bin("bare"), nil, dir, "bare", "-addr", bareAddr)
	waitHTTP("http://" + bareAddr + "/")
	bareRes := runWrk("bare", bare, "http://"+bareAddr+"/", "", "")
	row("bare net/http", bareRes, bareRes)

	db := filepath.Join(dir, "empty.db")
	ids := seedUsers(dir, db, keyFile, *users, 0)
	toks := mintTokens(signer, ids)
	tokFile := filepath.Join(dir, "tokens.txt")
	check(os.WriteFile(tokFile, []byte(strings.Join(toks, "\n")+"\n"), 0o644))

	emptyW1a, emptyW1b := workloads("", bin, dir, db, keyFile, toks[0], lua, tokFile, bareRes, true)

	if *w4n > 0 {
		big := filepath.Join(dir, "big.db")
		t0 := time.Now()
		ids := seedUsers(dir, big, keyFile, *users, *w4n)
		fmt.Printf("\n# W4: seeded %d users and %d ended sessions in %s\n", *w4n, *w4n, time.Since(t0).Round(time.Millisecond))
		w4a, w4b := workloads("W4 ", bin, dir, big, keyFile, mintTokens(signer, ids[:1])[0], lua, tokFile, bareRes, false)
		fmt.Printf("\n# W4 against the empty database: W1a %.2f, W1b %.2f (target within 10%%)\n", w4a.rps/emptyW1a.rps, w4b.rps/emptyW1b.rps)
	}
	bare.stop()
}

// workloads starts jot and guardonly over db and runs W1a, W1b (and W1c).
func workloads(prefix string, bin func(string) string, dir, db, keyFile, tok, lua, tokFile string, bareRes result, w1c bool) (w1a, w1b result) {
	t0 := time.Now()
	jot := start(bin("jot"), []string{
		"JOT_ADDR=" + jotAddr, "JOT_DATABASE_URL=sqlite://" + db, "JOT_JWT_KEY_FILE=" + keyFile,
		"JOT_BCRYPT_COST=10", "JOT_LOG_FORMAT=json",
	}, dir, prefix+"jot", "serve")
	waitHTTP("http://" + jotAddr + "/readyz")
	fmt.Printf("# %sjot ready in %s, RSS %s\n", prefix, time.Since(t0).Round(time.Millisecond), mb(jot.rss()))
	g := start(bin("guardonly"), nil, dir, prefix+"guardonly", "-addr", guardAddr, "-issuer-url", "http://"+jotAddr)
	waitHTTP("http://" + guardAddr + "/")
	fmt.Printf("# %sguard.Remote ready (JWKS and the whole revocation feed) %s, RSS %s\n", prefix, g.readyLine(), mb(g.rss()))

	w1a = runWrk(prefix+"W1a", g, "http://"+guardAddr+"/", tok, "")
	row(prefix+"W1a guard.Remote only", w1a, bareRes)
	w1b = runWrk(prefix+"W1b", jot, "http://"+jotAddr+"/v1/users/me", tok, "")
	row(prefix+"W1b GET /v1/users/me", w1b, bareRes)
	if w1c {
		r := runWrk(prefix+"W1c", jot, "http://"+jotAddr+"/v1/users/me", "", lua+"\x00"+tokFile)
		row(prefix+"W1c /v1/users/me, 10k users", r, bareRes)
	}
	g.stop()
	jot.stop()
	return w1a, w1b
}

type result struct {
	rps, p50, p99 float64 // req/s, ms
	requests      int64
	non2xx        int64
	cpuPerReq     float64 // µs
	rss           int64
	load          string
}

func row(name string, r, bare result) {
	fmt.Printf("| %s | %.0f | %.2f | %.2f ms | %.2f ms | %.0f µs | %s | %d | %s |\n",
		name, r.rps, r.rps/bare.rps, r.p50, r.p99, r.cpuPerReq, mb(r.rss), r.non2xx, r.load)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

var (
	reqsRe   = regexp.MustCompile(`(\d+) requests in`)
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	pctRe    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)`)
)

// runWrk drives url with wrk for -d, with a bearer token or a Lua script
// ("script\x00tokens file"), and reads the server's CPU time around it.
func runWrk(name string, p *proc, url, tok, script string) result {
	args := []string{"-t" + strconv.Itoa(*threads), "-c" + strconv.Itoa(*conns), "-d" + dur.String(), "--latency"}
	var env []string
	if tok != "" {
		args = append(args, "-H", "Authorization: Bearer "+tok)
	}
	if script != "" {
		s, f, _ := strings.Cut(script, "\x00")
		args = append(args, "-s", s)
		env = append(env, "TOKENS="+f)
	}
	cpu0 := p.cpu()
	cmd := exec.Command("wrk", append(args, url)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log.Fatalf("%s: wrk: %v\n%s", name, err, out)
	}
	cpu := p.cpu() - cpu0
	var r result
	s := string(out)
	if m := rpsRe.FindStringSubmatch(s); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reqsRe.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := non2xxRe.FindStringSubmatch(s); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range pctRe.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if m[1] == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	if r.requests > 0 {
		r.cpuPerReq = cpu.Seconds() * 1e6 / float64(r.requests)
	}
	r.rss = p.rss()
	r.load = loadavg()
	return r
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// w1cScript sends each request with the next of the tokens in $TOKENS.
const w1cScript = `
local toks = {}
for line in io.lines(os.getenv("TOKENS")) do toks[#toks + 1] = line end
local i = math.random(#toks)
request = function()
  i = i % #toks + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. toks[i]})
end
`

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
