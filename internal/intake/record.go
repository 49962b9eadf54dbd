package intake

import (
	"context"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Recorder keeps the accepted incidents for the workbook (a *workbook.Store), so incidents that start
// no playbook are counted too.
type Recorder interface {
	Record(ctx context.Context, inc incident.Incident) error
}

// recordTimeout bounds the store write, so a slow store cannot hold the sender's request.
const recordTimeout = 2 * time.Second

// record writes inc to the Recorder. Best effort: the event is accepted already, so a store error is
// logged and counted, never answered.
func (s *Server) record(ctx context.Context, inc incident.Incident) {
	if s.recorder == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.recorder.Record(ctx, inc); err != nil {
		s.metrics.recordErrors.Inc()
		s.log.Warn("the workbook could not record the incident", "incident", inc.ID, "err", err)
	}
}
