# bench-summary.awk turns `go test -bench` output into hack/bench.sh's
# summary: one line per benchmark with its time, its ratio and its
# baseline first, then its other metrics. A benchmark that reports no ratio
# is printed as such and makes the exit status 1.
function human(ns) {
  if (ns >= 1e9) return sprintf("%.2fs", ns / 1e9)
  if (ns >= 1e6) return sprintf("%.1fms", ns / 1e6)
  if (ns >= 1e3) return sprintf("%.1fµs", ns / 1e3)
  return sprintf("%.0fns", ns)
}
/^Benchmark/ && $2 ~ /^[0-9]+$/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  delete v; n = 0
  for (i = 3; i < NF; i += 2) { v[$(i+1)] = $i; order[++n] = $(i+1) }
  time = ("ns/op" in v) ? human(v["ns/op"]) : "?"
  base = ""
  rest = ""
  for (j = 1; j <= n; j++) {
    u = order[j]
    if (u == "ns/op" || u == "ratio" || u == "B/op" || u == "allocs/op") continue
    if (u == "baseline-ns/op") { base = human(v[u]); continue }
    if (u ~ /^baseline-/) { base = base (base == "" ? "" : " ") v[u] " " substr(u, 10); continue }
    rest = rest sprintf("  %s=%s", u, v[u])
  }
  if ("ratio" in v && base != "") {
    printf "  %-52s time %-9s ratio %-7.3g baseline %s%s\n", name, time, v["ratio"], base, rest
  } else {
    printf "  %-52s time %-9s NO RATIO/BASELINE (report one with internal/benchcmp)%s\n", name, time, rest
    missing++
  }
}
END {
  if (missing) { printf "%d benchmark(s) without a baseline\n", missing; exit 1 }
}
