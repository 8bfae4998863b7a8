package otelx

import (
	"errors"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// failingMeter refuses counters, counting the calls it gets.
type failingMeter struct {
	metricnoop.Meter
	calls *int
}

var errRefused = errors.New("refused")

func (m failingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	*m.calls++
	return nil, errRefused
}

func (m failingMeter) Int64Gauge(string, ...metric.Int64GaugeOption) (metric.Int64Gauge, error) {
	*m.calls++
	return metricnoop.Int64Gauge{}, nil
}

func TestInstruments(t *testing.T) {
	off := NewInstruments(Meter(metricnoop.NewMeterProvider()))
	if off.Counter(MetricDecisions) != nil || off.Histogram(MetricCheckDuration) != nil || off.Gauge(MetricPolicyVersion) != nil || off.Err() != nil {
		t.Fatal("a no-op provider must give nil instruments and no error")
	}
	if l := off.CacheLookups("x"); l.c != nil {
		t.Fatal("cache lookups on with metrics off")
	}

	calls := 0
	in := NewInstruments(failingMeter{calls: &calls})
	if c := in.Counter(MetricGrants); c != nil {
		t.Fatal("a failed counter is not nil")
	}
	if g := in.Gauge(MetricPolicyVersion); g != nil || calls != 1 {
		t.Fatalf("after a failure: gauge %v, %d meter calls (want none after the first error)", g, calls)
	}
	if !errors.Is(in.Err(), errRefused) {
		t.Fatalf("Err = %v", in.Err())
	}

	for name, s := range instruments {
		if s.unit == "" || s.desc == "" {
			t.Errorf("%s: no unit or description", name)
		}
	}
}
