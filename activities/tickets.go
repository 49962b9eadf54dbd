package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// Error types of the ticket activities (ApplicationError types; list them in NonRetryableErrorTypes
// if a workflow wants to stop on them regardless of the error's own flag).
const (
	// FailureServiceNowRejected: ServiceNow refused the request (400, 401, 403, 404); retrying cannot help.
	FailureServiceNowRejected = "ServiceNowRejected"
	// FailureServiceNowUnavailable: ServiceNow did not answer usefully (5xx, connection, timeout); retried.
	FailureServiceNowUnavailable = "ServiceNowUnavailable"
	// FailureServiceNowThrottled: ServiceNow asked us to slow down (429); retried after its Retry-After.
	FailureServiceNowThrottled = "ServiceNowThrottled"
)

// TicketAPI is the part of the ServiceNow Table API the ticket activities use.
type TicketAPI interface {
	Create(ctx context.Context, table string, fields map[string]string) (servicenow.Record, error)
	Query(ctx context.Context, table string, q servicenow.Query, fields []string, limit int) ([]servicenow.Record, error)
	Get(ctx context.Context, table, sysID string, fields []string, displayValues bool) (servicenow.Record, error)
	Update(ctx context.Context, table, sysID string, fields map[string]string) (servicenow.Record, error)
}

var _ TicketAPI = (*servicenow.Client)(nil)

// Tickets are the ServiceNow ticket activities.
type Tickets struct {
	Client TicketAPI
	// InstanceURL is the base of the links to tickets (the stand-in's URL in dev: it answers them).
	InstanceURL string
	// Table is where tickets go when a request names no table.
	Table string
	// CreateSettle is how long the retry of a create with an unknown outcome waits before its lookup:
	// lookup-before-create cannot see a create the instance is still committing.
	CreateSettle time.Duration
}

// NewTickets makes the ticket activities.
func NewTickets(client TicketAPI, instanceURL, table string) (*Tickets, error) {
	if client == nil {
		return nil, errors.New("tickets: no ServiceNow client")
	}
	if instanceURL == "" {
		return nil, errors.New("tickets: no instance URL for ticket links")
	}
	table = cmp.Or(table, "incident")
	if !servicenow.ValidTable(table) {
		return nil, fmt.Errorf("tickets: %q is not a table name", table)
	}
	return &Tickets{Client: client, InstanceURL: instanceURL, Table: table}, nil
}

// TicketFields are the configurable parts of a new ticket.
type TicketFields struct {
	Category    string `json:"category,omitempty"`
	Subcategory string `json:"subcategory,omitempty"`
	// AssignmentGroup and CallerID are reference fields: sys_ids.
	AssignmentGroup string `json:"assignmentGroup,omitempty"`
	CallerID        string `json:"callerId,omitempty"`
	// Extra fields go on every new ticket; the fields above and the playbook's own win over them.
	Extra map[string]string `json:"extra,omitempty"`
	// ShortDescriptionTemplate is a text/template over .Device (incident.Device) and .Incident
	// (TicketIncident); empty uses the built-in wording.
	ShortDescriptionTemplate string `json:"shortDescriptionTemplate,omitempty"`
}

// TicketIncident is what a ticket says about the incident: the incident without its devices.
type TicketIncident struct {
	ID         string        `json:"id"`
	Number     int64         `json:"number,omitempty"`
	Title      string        `json:"title,omitempty"`
	Severity   string        `json:"severity,omitempty"`
	URL        string        `json:"url,omitempty"`
	Tactics    []string      `json:"tactics,omitempty"`
	Techniques []string      `json:"techniques,omitempty"`
	Alerts     []TicketAlert `json:"alerts,omitempty"`
	// Impact is the business impact from the asset directory; nil when none was computed.
	Impact *incident.Impact `json:"impact,omitempty"`
}

// TicketAlert is what a ticket says about one alert.
type TicketAlert struct {
	ID               string    `json:"id,omitempty"`
	Title            string    `json:"title,omitempty"`
	Description      string    `json:"description,omitempty"`
	VendorOriginalID string    `json:"vendorOriginalId,omitempty"`
	ManagementURI    string    `json:"managementUri,omitempty"`
	Link             string    `json:"link,omitempty"`
	StartTime        time.Time `json:"startTime,omitzero"`
	Techniques       []string  `json:"techniques,omitempty"`
	RemediationSteps []string  `json:"remediationSteps,omitempty"`
}

// NewTicketIncident keeps the parts of an incident a ticket shows. It is deterministic, so workflows
// may call it.
func NewTicketIncident(inc incident.Incident) TicketIncident {
	ti := TicketIncident{
		ID: inc.ID, Number: inc.Number, Title: inc.Title, Severity: inc.Severity, URL: inc.URL,
		Tactics: inc.Tactics, Techniques: inc.Techniques,
	}
	for _, a := range inc.Alerts {
		ti.Alerts = append(ti.Alerts, TicketAlert{
			ID: a.ID, Title: a.Title, Description: a.Description, VendorOriginalID: a.VendorOriginalID,
			ManagementURI: a.ManagementURI, Link: a.Link, StartTime: a.StartTime,
			Techniques: a.Techniques, RemediationSteps: a.RemediationSteps,
		})
	}
	if inc.Impact != nil {
		imp := *inc.Impact
		ti.Impact = &imp
	}
	return ti
}

// ImpactSummary is the one-line business impact that comments and work notes show: the statement,
// with the production stop risk, the safety flag and the devices the directory does not know added
// when the statement does not say them already. Alert and directory strings are made single-line and
// stripped of control and bidi characters, but not escaped: HTML callers escape the result. "" for a
// nil Impact. It is deterministic, so workflows may call it.
func ImpactSummary(imp *incident.Impact) string {
	if imp == nil {
		return ""
	}
	var parts []string
	if s := safetext.Line(imp.Statement, 600); s != "" {
		parts = append(parts, s)
	}
	said := strings.ToLower(strings.Join(parts, "; "))
	if risk := safetext.Line(imp.Risk, 30); risk != "" && !strings.Contains(said, "production stop risk") {
		parts = append(parts, "production stop risk "+risk)
	}
	if imp.Safety && !strings.Contains(said, "safety-relevant") {
		parts = append(parts, "safety-relevant asset involved")
	}
	if unknown := ticketList(imp.Unknown, 10); unknown != "" && !strings.Contains(said, "asset directory") {
		parts = append(parts, "not in the asset directory: "+unknown)
	}
	return safetext.Clip(strings.Join(parts, "; "), 1000)
}

// EnsureTicketRequest asks for an open ticket about one device.
type EnsureTicketRequest struct {
	Incident TicketIncident  `json:"incident"`
	Device   incident.Device `json:"device"`
	// Table overrides Tickets.Table.
	Table  string       `json:"table,omitempty"`
	Fields TicketFields `json:"fields,omitzero"`
	// SeenAt is when the device was seen in this incident, for the "seen again" work note.
	SeenAt time.Time `json:"seenAt,omitzero"`
}

// TicketResult says which ticket covers the device.
type TicketResult struct {
	Number        string `json:"number"`
	SysID         string `json:"sysId"`
	URL           string `json:"url"`
	Table         string `json:"table"`
	CorrelationID string `json:"correlationId"`
	// Created is true when this incident's run made the ticket (in this attempt or an earlier one).
	Created bool `json:"created"`
	// Noted is true when a "seen again" work note was added to an existing ticket.
	Noted  bool   `json:"noted,omitempty"`
	Device string `json:"device"`
}

// DeviceKey is the stable key of a device, the correlation_id of its ticket: "interlock-ews-" and 24
// hex digits of the SHA-256 of the normalized MAC address, else of "defender:"+device ID, else of
// "ip:"+IP+"|site:"+site. It is made of [a-z0-9-] only, so it is always safe in a query. Empty when
// the device has none of these.
func DeviceKey(d incident.Device) string {
	var basis string
	switch {
	case normalizeMAC(d.MAC) != "":
		basis = normalizeMAC(d.MAC)
	case strings.TrimSpace(d.ID) != "":
		basis = "defender:" + strings.TrimSpace(d.ID)
	case strings.TrimSpace(d.IP) != "":
		basis = "ip:" + strings.ToLower(strings.TrimSpace(d.IP)) + "|site:" + strings.TrimSpace(d.Site)
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(basis))
	return "interlock-ews-" + hex.EncodeToString(sum[:])[:24]
}

// normalizeMAC renders a MAC address as lower-case colon-separated hex, or "" when it is not a usable
// unicast address (all-zero and broadcast addresses say nothing about the device).
func normalizeMAC(s string) string {
	hw, err := net.ParseMAC(strings.TrimSpace(s))
	if err != nil || len(hw) != 6 {
		// net.ParseMAC wants separators; Defender for IoT sometimes sends bare hex.
		clean := strings.NewReplacer(":", "", "-", "", ".", "", " ", "").Replace(strings.TrimSpace(s))
		b, err := hex.DecodeString(clean)
		if err != nil || len(b) != 6 {
			return ""
		}
		hw = b
	}
	if slices.Equal(hw, net.HardwareAddr{0, 0, 0, 0, 0, 0}) || slices.Equal(hw, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		return ""
	}
	return strings.ToLower(hw.String())
}

const (
	maxShortDescription = 160
	// task.description holds 4000 characters on a default instance.
	maxDescription = 4000
)

// EnsureTicket makes sure one open ticket covers the device: it looks up an active record whose
// correlation_id is the device's key; if there is one, it adds a "seen again" work note (once per
// incident), otherwise it creates the ticket.
//
// Idempotency: the lookup comes first, so a retry after a create whose response was lost finds the
// ticket instead of making a second. Each ticket's description ends with a marker naming the incident
// that created it, and each work note with a marker naming its incident; before noting, the activity
// reads the record's work notes (their display value, the only form in which the Table API shows a
// journal) and skips the note when this incident's marker is already there. A retry after a lost
// PATCH response therefore adds no second note, and a ticket found again by the run that created it
// gets no "seen again" note at all.
func (t *Tickets) EnsureTicket(ctx context.Context, req EnsureTicketRequest) (TicketResult, error) {
	table := cmp.Or(req.Table, t.Table, "incident")
	if !servicenow.ValidTable(table) {
		return TicketResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%q is not a ServiceNow table name", table), FailureInvalidRequest, nil)
	}
	if strings.TrimSpace(req.Incident.ID) == "" {
		return TicketResult{}, temporal.NewNonRetryableApplicationError("ticket request has no incident ID", FailureInvalidRequest, nil)
	}
	key := DeviceKey(req.Device)
	if key == "" {
		return TicketResult{}, temporal.NewNonRetryableApplicationError("device has no MAC address, Defender for IoT ID or IP address to key a ticket on", FailureInvalidRequest, nil)
	}
	fields, err := TicketFieldValues(req, key)
	if err != nil {
		return TicketResult{}, temporal.NewNonRetryableApplicationError("build ticket fields", FailureInvalidRequest, err)
	}
	res := TicketResult{Table: table, CorrelationID: key, Device: safetext.Line(req.Device.DisplayName(), 200)}
	marker := ticketMarker(req.Incident.ID)

	// Oldest first by number: numbers are sequential, creation times only to the second.
	q := servicenow.And(servicenow.Eq("correlation_id", key), servicenow.Eq("active", "true"), servicenow.OrderBy("number"))
	recs, err := t.Client.Query(ctx, table, q, []string{"sys_id", "number", "correlation_id", "active", "description"}, 10)
	if err != nil {
		return TicketResult{}, ticketError("look up ticket in "+table, err)
	}
	if rec, ok := openTicket(recs, key); ok {
		res.SysID, res.Number, res.URL = rec["sys_id"], rec["number"], servicenow.RecordURL(t.InstanceURL, table, rec["sys_id"])
		if hasMarkerLine(rec["description"], marker) {
			res.Created = true // made for this incident by an earlier attempt whose answer was lost
			return res, nil
		}
		notes, err := t.Client.Get(ctx, table, res.SysID, []string{"work_notes"}, true)
		if err != nil {
			return TicketResult{}, ticketError("read work notes of "+res.Number, err)
		}
		if hasMarkerLine(notes["work_notes"], marker) {
			return res, nil
		}
		if _, err := t.Client.Update(ctx, table, res.SysID, map[string]string{"work_notes": seenAgainNote(req, marker)}); err != nil {
			return TicketResult{}, ticketError("add work note to "+res.Number, err)
		}
		res.Noted = true
		return res, nil
	}

	rec, err := t.Client.Create(ctx, table, fields)
	if err != nil {
		if ambiguous(err) && t.CreateSettle > 0 {
			return TicketResult{}, temporal.NewApplicationErrorWithOptions("create ticket in "+table+": outcome unknown",
				FailureServiceNowUnavailable, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: t.CreateSettle})
		}
		return TicketResult{}, ticketError("create ticket in "+table, err)
	}
	if !servicenow.ValidSysID(rec["sys_id"]) {
		// The record may exist; the retry's lookup will find it.
		return TicketResult{}, temporal.NewApplicationError("ServiceNow answered the create without a sys_id", FailureServiceNowUnavailable)
	}
	res.SysID, res.Number, res.Created = rec["sys_id"], rec["number"], true
	res.URL = servicenow.RecordURL(t.InstanceURL, table, res.SysID)
	return t.settleRace(ctx, table, q, key, res), nil
}

// settleRace handles two incidents about the same device whose runs both found no ticket and both
// created one. Looking again after the create, every run sees the same oldest ticket (the lower
// number); a run whose own ticket is not that one cancels it as a duplicate and reports the oldest.
// It is best effort: if the second look or the cancel fails, the run keeps its own ticket.
func (t *Tickets) settleRace(ctx context.Context, table string, q servicenow.Query, key string, res TicketResult) TicketResult {
	recs, err := t.Client.Query(ctx, table, q, []string{"sys_id", "number", "correlation_id", "active"}, 10)
	if err != nil {
		return res
	}
	oldest, ok := openTicket(recs, key)
	if !ok || oldest["sys_id"] == res.SysID {
		return res
	}
	note := "Duplicate of " + oldest["number"] + ", opened at the same moment for the same device by another incident. Cancelled by Interlock."
	if _, err := t.Client.Update(ctx, table, res.SysID, map[string]string{"state": "8", "active": "false", "work_notes": note}); err != nil {
		return res
	}
	res.SysID, res.Number, res.Created = oldest["sys_id"], oldest["number"], false
	res.URL = servicenow.RecordURL(t.InstanceURL, table, res.SysID)
	return res
}

// openTicket picks the oldest returned record that really carries the key and is open. ServiceNow
// drops query parts it finds invalid (a table without correlation_id would match every record), so
// the returned values are checked, not trusted. A table without an active column returns none; then
// every record counts as open.
func openTicket(recs []servicenow.Record, key string) (servicenow.Record, bool) {
	for _, r := range recs {
		if active, ok := r["active"]; ok && active != "true" {
			continue
		}
		if r["correlation_id"] == key && servicenow.ValidSysID(r["sys_id"]) {
			return r, true
		}
	}
	return nil, false
}

// ticketMarker names the incident in a description or work note. Brackets in the ID are replaced, so
// one incident's marker can never contain another's.
func ticketMarker(incidentID string) string {
	id := strings.NewReplacer("[", "(", "]", ")").Replace(safetext.Line(incidentID, 200))
	return "[Interlock: incident " + id + "]"
}

// hasMarkerLine reports whether a line of text is the marker. Alert strings are made single-line
// before they reach a description or note, so only Interlock's own marker line can match: an alert
// that quotes a marker inside its text cannot pass for one.
func hasMarkerLine(text, marker string) bool {
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == marker {
			return true
		}
	}
	return false
}

func seenAgainNote(req EnsureTicketRequest, marker string) string {
	var b strings.Builder
	b.WriteString("Seen again in " + incidentName(req.Incident))
	if u := safetext.Line(req.Incident.URL, 1000); u != "" {
		b.WriteString(" (" + u + ")")
	}
	if !req.SeenAt.IsZero() {
		b.WriteString(" at " + req.SeenAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if title := safetext.Line(incident.BareTitle(req.Incident.Title), 300); title != "" {
		b.WriteString(": " + title)
	}
	b.WriteString(".\n")
	if s := ImpactSummary(req.Incident.Impact); s != "" {
		b.WriteString("Business impact: " + s + "\n")
	}
	b.WriteString(marker)
	return b.String()
}

func incidentName(inc TicketIncident) string {
	if inc.Number != 0 {
		return fmt.Sprintf("Microsoft Sentinel incident %d", inc.Number)
	}
	return "incident " + safetext.Line(inc.ID, 200)
}

// ambiguous says whether a failed create may still have made the record: the request may have reached
// ServiceNow (no answer, a reset, a gateway timeout), as opposed to an answer that it did nothing.
func ambiguous(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := errors.AsType[*servicenow.QueryError](err); ok {
		return false
	}
	apiErr, ok := errors.AsType[*servicenow.APIError](err)
	if !ok {
		return true
	}
	return apiErr.Status == 500 || apiErr.Status == 502 || apiErr.Status == 504
}

// ticketError turns a client error into an activity error Temporal retries, or not, as it deserves.
func ticketError(op string, err error) error {
	if _, ok := errors.AsType[*servicenow.QueryError](err); ok {
		return temporal.NewNonRetryableApplicationError(op, FailureInvalidRequest, err)
	}
	apiErr, ok := errors.AsType[*servicenow.APIError](err)
	switch {
	case !ok:
		if errors.Is(err, context.Canceled) {
			return err // the activity was cancelled; nothing to classify
		}
		return temporal.NewApplicationErrorWithCause(op, FailureServiceNowUnavailable, err)
	case !apiErr.Retryable:
		return temporal.NewNonRetryableApplicationError(op, FailureServiceNowRejected, err)
	case apiErr.RetryAfter > 0:
		errType := FailureServiceNowUnavailable
		if apiErr.Status == 429 {
			errType = FailureServiceNowThrottled
		}
		return temporal.NewApplicationErrorWithOptions(op, errType, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: apiErr.RetryAfter})
	default:
		return temporal.NewApplicationErrorWithCause(op, FailureServiceNowUnavailable, err)
	}
}
