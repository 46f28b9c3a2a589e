package workers

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestQuieterKeepsRiverInfoOutUnlessDebug(t *testing.T) {
	for _, tc := range []struct {
		level    slog.Level
		wantInfo bool
		wantWarn bool
	}{
		{slog.LevelInfo, false, true},
		{slog.LevelDebug, true, true},
		{slog.LevelError, false, false},
	} {
		var buf bytes.Buffer
		log := slog.New(quieter{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}), slog.LevelWarn}).With("component", "river")
		log.InfoContext(context.Background(), "producer: job counts")
		log.Warn("leadership lost")
		if got := strings.Contains(buf.String(), "job counts"); got != tc.wantInfo {
			t.Errorf("process level %v: info shown = %v, want %v", tc.level, got, tc.wantInfo)
		}
		if got := strings.Contains(buf.String(), "leadership lost"); got != tc.wantWarn {
			t.Errorf("process level %v: warn shown = %v, want %v", tc.level, got, tc.wantWarn)
		}
		if tc.wantWarn && !strings.Contains(buf.String(), "component=river") {
			t.Errorf("attributes lost: %s", buf.String())
		}
	}
}
