package chimcp_test

import (
	"testing"
	"time"
)

// interleave runs bare, guarded and (if not nil) check in alternating
// batches and reports per-request times and ratios as custom metrics.
func interleave(b *testing.B, setup func(*testing.B) (bare, guarded, check func())) {
	bare, guarded, check := setup(b)
	const batch = 32
	var tb, tg, tc time.Duration
	n := 0
	run := func(f func()) time.Duration {
		t0 := time.Now()
		for range batch {
			f()
		}
		return time.Since(t0)
	}
	for b.Loop() {
		tb += run(bare)
		tg += run(guarded)
		if check != nil {
			tc += run(check)
		}
		n += batch
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per(tb), "bare-ns/req")
	b.ReportMetric(per(tg), "guarded-ns/req")
	if check != nil {
		b.ReportMetric(per(tc), "core-ns/req")
		b.ReportMetric(per(tg-tb-tc), "adapter-ns/req")
	}
	b.ReportMetric(float64(tb)/float64(tg), "guarded/bare-throughput")
}
