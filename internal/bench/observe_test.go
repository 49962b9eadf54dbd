package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/intake"
)

// fakeMailpit serves Mailpit's list and search endpoints over an in-memory mailbox that keeps only its
// newest max messages, as Mailpit does by default (500).
type fakeMailpit struct {
	mu   sync.Mutex
	msgs []email // oldest first
	max  int
}

func (f *fakeMailpit) add(subject string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, email{ID: "m" + strconv.Itoa(len(f.msgs)) + subject, Subject: subject, Created: at})
	slices.SortStableFunc(f.msgs, func(a, b email) int { return a.Created.Compare(b.Created) })
	if len(f.msgs) > f.max {
		f.msgs = f.msgs[len(f.msgs)-f.max:]
	}
}

func (f *fakeMailpit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	var sel []email
	for i := len(f.msgs) - 1; i >= 0; i-- { // newest first
		m := f.msgs[i]
		if q := r.URL.Query().Get("query"); r.URL.Path == "/api/v1/search" {
			term := strings.Trim(strings.TrimPrefix(q, "subject:"), `"`)
			if !strings.Contains(m.Subject, term) {
				continue
			}
		}
		sel = append(sel, m)
	}
	f.mu.Unlock()
	start, _ := strconv.Atoi(r.URL.Query().Get("start"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	total := len(sel)
	sel = sel[min(start, len(sel)):]
	sel = sel[:min(limit, len(sel))]
	out := struct {
		Total    int     `json:"messages_count"`
		Messages []email `json:"messages"` // the field names match Mailpit's
	}{Total: total, Messages: sel}
	_ = json.NewEncoder(w).Encode(out)
}

// TestMailPollerThroughPruning: the incremental poll keeps finding new emails after Mailpit starts
// dropping old ones, including one stored after a newer one, and answers each PLC run once.
func TestMailPollerThroughPruning(t *testing.T) {
	fake := &fakeMailpit{max: 5}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	g, err := NewGenerator("abc")
	require.NoError(t, err)
	var items []*item
	for i := range 11 {
		inc, err := g.New(KindPLCReprogramming, fmt.Sprintf("l%d", i), i)
		require.NoError(t, err)
		items = append(items, &item{inc: inc, workflowID: "PLCReprogrammingNotice/" + inc.ID})
	}
	p := newPhase("full load", "abc", "l", items)
	r := &runner{runID: "abc", mail: &mailpitClient{http: srv.Client(), url: srv.URL}}
	o := &observer{r: r, p: p}
	ctx := t.Context()

	t0 := time.Now()
	subject := func(i int) string {
		return "[High] Unplanned change to PLC " + items[i].inc.PLCNames[0] + " — incident " + strconv.Itoa(i)
	}
	fake.add("someone else's mail", t0)
	for i := range 4 {
		fake.add(subject(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	require.NoError(t, o.pollMail(ctx, false))
	for i := 4; i < 9; i++ { // the mailbox overflows: all it held before is pruned
		fake.add(subject(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	require.NoError(t, o.pollMail(ctx, false))
	fake.add(subject(10), t0.Add(20*time.Millisecond))
	require.NoError(t, o.pollMail(ctx, false))
	fake.add(subject(9), t0.Add(19*time.Millisecond)) // received earlier, stored later
	require.NoError(t, o.pollMail(ctx, false))

	for i, it := range items {
		require.Equal(t, 1, it.effects, "incident %d", i)
		require.True(t, it.answering, "incident %d", i)
	}
	require.Len(t, p.answerQ, 11, "each run answered once")
	require.Zero(t, p.unexpected.emails)
}

// TestEmailBeforeAccepted: an email seen before the intake's 202 came back is answered when the 202
// names the run.
func TestEmailBeforeAccepted(t *testing.T) {
	g, err := NewGenerator("abc")
	require.NoError(t, err)
	inc, err := g.New(KindPLCReprogramming, "l0", 0)
	require.NoError(t, err)
	it := &item{inc: inc}
	p := newPhase("full load", "abc", "l", []*item{it})
	require.Empty(t, p.addEmails([]email{{ID: "m1", Subject: "Unplanned change to PLC " + inc.PLCNames[0], Created: time.Now()}}, true),
		"the run is not known yet")
	now := time.Now()
	answer := p.recordPost(it, now, now, intake.Response{Runs: []intake.Run{{Playbook: KindPLCReprogramming.Playbook(), WorkflowID: "w", Status: "started"}}}, nil, 1)
	require.True(t, answer)
	require.False(t, p.recordPost(it, now, now, intake.Response{Runs: []intake.Run{{Playbook: KindPLCReprogramming.Playbook(), WorkflowID: "w", Status: "deduplicated"}}}, nil, 1),
		"answered once")
}
