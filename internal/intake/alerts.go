package intake

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

// IncidentStore holds the incidents Interlock keeps itself (otincident.Client).
type IncidentStore interface {
	AddAlerts(ctx context.Context, incidentID string, start otincident.Start, recs []otincident.Record) (otincident.AddAlertsResult, error)
	Change(ctx context.Context, incidentID string, ch otincident.Change) (otincident.ChangeResult, error)
	State(ctx context.Context, incidentID string) (otincident.State, error)
	List(ctx context.Context, f otincident.Filter) ([]otincident.Listed, error)
}

// IncidentDecider runs the incident creation rules on one alert (a *rules.Set).
type IncidentDecider interface {
	DecideIncident(alert incident.Incident) rules.IncidentDecision
}

// AssetDirectory enriches alerts and maps their impact (an *assets.Directory).
type AssetDirectory interface {
	Enrich(inc *incident.Incident)
	Impact(inc incident.Incident) incident.Impact
}

// DefaultMaxAlertBatchBytes bounds a POST /v1/alerts body when Options.MaxAlertBatchBytes is zero:
// room for a few thousand SecurityAlert records.
const DefaultMaxAlertBatchBytes = 32 << 20

// alertConcurrency bounds the incidents one batch updates at a time.
const alertConcurrency = 16

// alertUpdateTimeouts is how many start timeouts one incident's update may take.
const alertUpdateTimeouts = 3

// Statuses of one record in the answer to POST /v1/alerts.
const (
	recordAccepted    = otincident.OutcomeAccepted
	recordDuplicate   = otincident.OutcomeDuplicate
	recordRejected    = "rejected"
	recordSuppressed  = "suppressed"
	recordUnavailable = "unavailable"
	recordFailed      = "failed"
)

// AlertResult is what became of one record of an alert batch.
type AlertResult struct {
	Index int `json:"index"`
	// Line is the record's line in an NDJSON body.
	Line    int    `json:"line,omitempty"`
	Status  string `json:"status"`
	AlertID string `json:"alertId,omitempty"`
	// Incident is the ID of the incident the record went to; Created says it made the incident.
	Incident string `json:"incident,omitempty"`
	Created  bool   `json:"created,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	Field    string `json:"field,omitempty"`
}

// AlertsResponse answers POST /v1/alerts: counts, then every record in order.
type AlertsResponse struct {
	Accepted    int           `json:"accepted"`
	Duplicates  int           `json:"duplicates"`
	Rejected    int           `json:"rejected"`
	Suppressed  int           `json:"suppressed"`
	Unavailable int           `json:"unavailable,omitempty"`
	Failed      int           `json:"failed,omitempty"`
	Incidents   int           `json:"incidents"`
	Records     []AlertResult `json:"records"`
}

// alertGroup is the records of one batch that go to one incident.
type alertGroup struct {
	id      string
	indexes []int
	records []otincident.Record
	first   incident.Incident // the first record, enriched, for the run's summary
	created otincident.Creation
}

// serveAlerts takes raw Defender for IoT alert records and hands each to its incident.
func (s *Server) serveAlerts(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.incidents == nil || s.incidentRules == nil {
		writeError(w, http.StatusNotFound, "the incident layer is not enabled on this intake", "")
		return
	}
	recs, ndjson, ok := parseAlertBatch(w, r, body)
	if !ok {
		return
	}
	if !s.rulesReady(w, "no rules are loaded; nothing was taken") {
		return
	}
	single := !ndjson && len(recs) == 1 && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	resp := AlertsResponse{Records: make([]AlertResult, len(recs))}
	groups := s.groupAlerts(recs, single, resp.Records)
	if len(groups) > 0 && s.shed(w, routeAlerts) {
		return
	}
	s.deliver(r.Context(), groups, resp.Records)
	s.tallyAlerts(&resp)
	resp.Incidents = len(groups)
	s.log.Info("alerts handled", "records", len(recs), "accepted", resp.Accepted, "duplicates", resp.Duplicates,
		"rejected", resp.Rejected, "suppressed", resp.Suppressed, "unavailable", resp.Unavailable, "incidents", resp.Incidents)
	writeAlertsResponse(w, resp, single)
}

// parseAlertBatch checks the media type (JSON or NDJSON) and parses the records; on failure it has
// answered 415 or 400.
func parseAlertBatch(w http.ResponseWriter, r *http.Request, body []byte) (recs []incident.AlertRecord, ndjson, ok bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ndjson = mt == "application/x-ndjson" || mt == "application/jsonl" || mt == "application/ndjson"
	if err != nil || (mt != "application/json" && !ndjson) {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json or application/x-ndjson", "")
		return nil, false, false
	}
	recs, err = incident.ParseAlerts(body, ndjson)
	if err != nil {
		writeParseError(w, err, "invalid alert batch: ", "body")
		return nil, false, false
	}
	return recs, ndjson, true
}

// groupAlerts runs the creation rules on every record, filling in the results of those rejected or
// suppressed, and gathers the rest by incident, in order of first appearance.
func (s *Server) groupAlerts(recs []incident.AlertRecord, single bool, results []AlertResult) []*alertGroup {
	var groups []*alertGroup
	byID := map[string]*alertGroup{}
	for i, rec := range recs {
		res := &results[i]
		res.Index, res.Line = rec.Index, rec.Line
		if rec.Err != nil {
			res.Status = recordRejected
			res.Error, res.Field = recordError(rec, single)
			continue
		}
		fp := fingerprint(rec.Incident) // before enrichment, which may change what the record shares
		alert, created, ok := s.decideAlert(rec.Incident, res)
		if !ok {
			continue
		}
		g := byID[res.Incident]
		if g == nil {
			g = &alertGroup{id: res.Incident, first: alert, created: created}
			byID[res.Incident] = g
			groups = append(groups, g)
		}
		g.indexes = append(g.indexes, i)
		g.records = append(g.records, otincident.Record{Alert: alert, Creation: created, Fingerprint: fp})
	}
	return groups
}

// decideAlert enriches one alert and runs the creation rules on it, setting res's alert ID, rule and
// incident ID. It returns false, with res suppressed, when no incident is to be created.
func (s *Server) decideAlert(alert incident.Incident, res *AlertResult) (incident.Incident, otincident.Creation, bool) {
	a := alert.Alerts[0]
	res.AlertID = cmp.Or(a.VendorOriginalID, a.ID)
	if s.assets != nil {
		s.assets.Enrich(&alert)
	}
	dec := s.incidentRules.DecideIncident(alert)
	for _, e := range dec.Errors {
		s.log.Warn("incident rule condition failed", "alert", res.AlertID, "err", e)
	}
	res.Rule = dec.Rule
	if !dec.Create {
		res.Status = recordSuppressed
		res.Reason = "no incident creation rule matched"
		if dec.Rule != "" {
			res.Reason = "the creation rule creates no incident"
		}
		return alert, otincident.Creation{}, false
	}
	res.Incident = otincident.IncidentID(a, dec.GroupKey)
	created := otincident.Creation{
		Rule: dec.Rule, Title: dec.Title, Severity: dec.Severity, Tactics: dec.Tactics, Techniques: dec.Techniques,
		AnalyticRuleID: dec.AnalyticRuleID, GroupKey: dec.GroupKey, GroupLabel: dec.GroupLabel,
	}
	return alert, created, true
}

// tallyAlerts counts the records by status, in the response and the metrics.
func (s *Server) tallyAlerts(resp *AlertsResponse) {
	for _, res := range resp.Records {
		s.metrics.alerts.WithLabelValues(res.Status).Inc()
		switch res.Status {
		case recordAccepted:
			resp.Accepted++
		case recordDuplicate:
			resp.Duplicates++
		case recordRejected:
			resp.Rejected++
		case recordSuppressed:
			resp.Suppressed++
		case recordUnavailable:
			resp.Unavailable++
		case recordFailed:
			resp.Failed++
		}
	}
}

// writeAlertsResponse answers with the status the batch as a whole earned.
func writeAlertsResponse(w http.ResponseWriter, resp AlertsResponse, single bool) {
	switch {
	case resp.Unavailable > 0:
		// Nothing said to be accepted is lost, but some records were not taken: the sender retries the
		// batch, and what was taken comes back as duplicate.
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeJSON(w, http.StatusServiceUnavailable, resp)
	case resp.Failed > 0:
		writeJSON(w, http.StatusInternalServerError, resp)
	case single && resp.Rejected == 1:
		writeJSON(w, http.StatusBadRequest, struct {
			errorBody
			AlertsResponse
		}{errorBody{Error: resp.Records[0].Error, Field: resp.Records[0].Field}, resp})
	case resp.Accepted > 0:
		writeJSON(w, http.StatusAccepted, resp)
	default:
		writeJSON(w, http.StatusOK, resp)
	}
}

// recordError places a record's error: "[3].ExtendedProperties" for an array element, the line for
// NDJSON, the field alone for a single record.
func recordError(rec incident.AlertRecord, single bool) (msg, field string) {
	path := ""
	if fe, ok := errors.AsType[*incident.FieldError](rec.Err); ok {
		path = fe.Path
		msg = fe.Msg
	} else {
		msg = rec.Err.Error()
	}
	switch {
	case single:
		field = path
	case rec.Line > 0:
		field = "line " + strconv.Itoa(rec.Line)
		if path != "" {
			field += ": " + path
		}
	default:
		field = "[" + strconv.Itoa(rec.Index) + "]"
		if path != "" {
			field += "." + path
		}
	}
	if path != "" {
		msg = path + ": " + msg
	}
	return msg, field
}

// fingerprint identifies a record's content, so a re-send is recognised as such.
func fingerprint(inc incident.Incident) string {
	b, err := json.Marshal(inc)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// deliver hands each group to its incident, several at a time, filling in the records' outcomes.
func (s *Server) deliver(ctx context.Context, groups []*alertGroup, results []AlertResult) {
	sem := make(chan struct{}, alertConcurrency)
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.deliverGroup(ctx, g, results)
		}()
	}
	wg.Wait()
}

func (s *Server) deliverGroup(ctx context.Context, g *alertGroup, results []AlertResult) {
	start := s.incidentStart(g)
	for off := 0; off < len(g.records); off += otincident.MaxRecordsPerAdd {
		end := min(off+otincident.MaxRecordsPerAdd, len(g.records))
		// An update waits for the worker as well as Temporal; under full load on a small machine that
		// takes longer than a start, and every timeout makes the sender resend its whole batch.
		cctx, cancel := context.WithTimeout(ctx, alertUpdateTimeouts*s.startTimeout)
		began := time.Now()
		s.inflight.Add(1)
		res, err := s.incidents.AddAlerts(cctx, g.id, start, g.records[off:end])
		s.inflight.Add(-1)
		cancel()
		s.metrics.alertTime.Observe(time.Since(began).Seconds())
		for j, idx := range g.indexes[off:end] {
			r := &results[idx]
			switch {
			case err == nil && j < len(res.Outcomes):
				o := res.Outcomes[j]
				r.Status, r.Created, r.Reason = o.Status, o.Created, o.Reason
			case errors.Is(err, otincident.ErrEnded):
				r.Status, r.Reason = recordDuplicate, "the incident was closed and its workflow has ended; it takes no more records"
			case err != nil && !refusedForGood(err):
				r.Status, r.Reason = recordUnavailable, "Temporal or the worker did not answer in time; not taken, send it again"
			default:
				r.Status, r.Reason = recordFailed, "the incident refused the record; see the intake log"
			}
		}
		if err != nil && !errors.Is(err, otincident.ErrEnded) {
			s.log.Warn("alert records not delivered", "incident", g.id, "records", end-off, "err", err)
		}
	}
}

// refusedForGood says whether the incident workflow (its validator) or Temporal refused the records
// for good. Anything else is "not taken, send it again": Temporal or the worker down or slow, and an
// update lost when Temporal restarted before taking it (its outcome is then not found). A resend of a
// record that was taken after all is answered duplicate, so erring this way loses nothing.
func refusedForGood(err error) bool {
	if _, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return true
	}
	_, ok := errors.AsType[*serviceerror.InvalidArgument](err)
	return ok
}

// incidentStart is how a new incident's run is started: its summary and first search attributes.
func (s *Server) incidentStart(g *alertGroup) otincident.Start {
	inc := g.first
	inc.ID, inc.Title, inc.Status = g.id, cmp.Or(g.created.Title, inc.Title), incident.StatusNew
	inc.Severity = cmp.Or(g.created.Severity, inc.Severity)
	inc.Tactics = append(append([]string(nil), g.created.Tactics...), inc.Tactics...)
	if s.assets != nil {
		impact := s.assets.Impact(inc)
		inc.Impact = &impact
	}
	summary := otincident.Summary(inc)
	details := fmt.Sprintf("Interlock incident %s, created by rule %s", g.id, strings.TrimSpace(g.created.Rule))
	return otincident.Start{Summary: summary, Details: details, SearchAttributes: workflows.IncidentSearchAttributes(inc)}
}
