package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows a phase's progress on stderr: one line redrawn in place on a terminal, a plain line
// every few seconds otherwise (CI logs, files), nothing when w is nil or io.Discard.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, tty: isTerminal(w), every: 5 * time.Second}
	if p.tty {
		p.every = 250 * time.Millisecond
	}
	return p
}

// start shows ph's progress until the returned stop is called, which prints the final state.
func (p *progress) start(ph *phase) (stop func()) {
	return p.startLine(func() string {
		return progressLine(ph.name, len(ph.items), ph.totalPosts, ph.posted.Load(), ph.acceptedN.Load(), ph.effectsN.Load(), ph.closedN.Load(), ph.effects, time.Since(ph.firstSent))
	})
}

// startLine shows line() until the returned stop is called, which prints the final state.
func (p *progress) startLine(line func() string) (stop func()) {
	if p.w == io.Discard {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.draw(line(), false)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		p.draw(line(), true)
	}
}

func (p *progress) draw(line string, final bool) {
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// progressLine is "full load [#####.....] posted 1000/2000 accepted 998/2000 effects 900 closed 850
// 85.0 closed/s 11.8s"; the bar fills with closed runs.
func progressLine(name string, total, totalPosts int, posted, accepted, effects, closed int64, hasEffects bool, elapsed time.Duration) string {
	const width = 20
	filled := 0
	if total > 0 {
		filled = int(closed * width / int64(total))
	}
	bar := strings.Repeat("#", min(filled, width)) + strings.Repeat(".", width-min(filled, width))
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s [%s] posted %d/%d accepted %d/%d", name, bar, posted, totalPosts, accepted, total)
	if hasEffects {
		fmt.Fprintf(&b, " effects %d", effects)
	}
	fmt.Fprintf(&b, " closed %d", closed)
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, "  %.1f closed/s  %.1fs", float64(closed)/secs, secs)
	}
	return b.String()
}

// isTerminal says whether w is a terminal, for the progress display.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
