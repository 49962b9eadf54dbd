package workbook

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/interlock-soar/interlock/workflows"
)

// runResult is the part of every playbook's result the workbook reads: the asking playbooks'
// Outcome, Answer and EscalationRounds, the ticketing ones' Tickets, Failed and Reason.
type runResult struct {
	Outcome          string            `json:"outcome"`
	Answer           *workflows.Answer `json:"answer"`
	EscalationRounds int               `json:"escalationRounds"`
	Tickets          []json.RawMessage `json:"tickets"`
	Failed           json.RawMessage   `json:"failed"`
	Reason           string            `json:"reason"`
}

// runStatusQuery is the asking playbooks' "status" query answer (PLCStatus, OwnerStatus).
type runStatusQuery struct {
	Phase        string            `json:"phase"`
	Round        int               `json:"round"`
	WaitingSince time.Time         `json:"waitingSince"`
	Answer       *workflows.Answer `json:"answer"`
}

// Outcome keys of runs whose result has no Outcome of its own.
const (
	OutcomeTicketCreated = "ticket-created"
	OutcomeFailed        = "failed"
	OutcomeSkipped       = "skipped"
	OutcomeDone          = "done"
)

func (res runResult) outcome() string {
	f := bytes.TrimSpace(res.Failed)
	switch {
	case res.Outcome != "":
		return res.Outcome
	case len(res.Tickets) > 0:
		return OutcomeTicketCreated
	case len(f) > 0 && !bytes.Equal(f, []byte("null")) && !bytes.Equal(f, []byte("[]")):
		return OutcomeFailed
	case res.Reason != "":
		return OutcomeSkipped
	default:
		return OutcomeDone
	}
}

// outcome fills a closed run's outcome from its result (an open run has none yet).
func (p *Projector) outcome(ctx context.Context, r *Run) error {
	if r.Status == StatusOpen {
		return nil
	}
	if r.Status != StatusCompleted {
		r.Outcome = OutcomeFailed
		return nil
	}
	ev, err := p.firstEvent(ctx, *r, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	if err != nil || ev == nil {
		return err
	}
	var res runResult
	if !p.decode(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult(), &res) {
		r.Outcome = OutcomeDone
		return nil
	}
	res.fill(r)
	return nil
}

// fill sets a completed run's outcome, escalations and answer from its result.
func (res runResult) fill(r *Run) {
	r.Outcome, r.Escalations = res.outcome(), res.EscalationRounds
	r.Asked = res.Answer != nil || res.EscalationRounds > 0 || res.Outcome == "no_answer" ||
		strings.HasPrefix(res.Outcome, "answered")
	if res.Answer != nil {
		r.AnsweredAt = res.Answer.At
	}
}

// waiting asks an open run whether it waits for an answer; a run that cannot answer yet (its first
// workflow task not done) is simply not waiting this pass.
func (p *Projector) waiting(ctx context.Context, r *Run) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := p.tc.QueryWorkflow(qctx, r.WorkflowID, r.RunID, "status")
	if err != nil {
		p.log.Debug("workbook: status query failed", "workflow", r.WorkflowID, "err", err)
		return
	}
	var st runStatusQuery
	if v == nil || v.Get(&st) != nil || st.Phase != "waiting" {
		return
	}
	r.Asked, r.Round, r.Escalations = true, st.Round, st.Round
	r.WaitingSince = st.WaitingSince
	if r.WaitingSince.IsZero() {
		r.WaitingSince = r.Started
	}
}
