package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/mail"
)

// Error types of the notification activities, for a workflow's NonRetryableErrorTypes or checks.
const (
	// FailureSMTPRejected: the SMTP server refused the message with a 5xx reply; retrying cannot help.
	FailureSMTPRejected = "SMTPRejected"
	// FailureSMTPTemporary: a 4xx reply, or the server could not be reached; Temporal retries.
	FailureSMTPTemporary = "SMTPTemporary"
)

// maxNotificationRecipients bounds one notice; a directory returning more is broken.
const maxNotificationRecipients = 50

// Sender sends one email. *mail.Sender implements it.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// AnswerLinkRequest is what one notice's answer links are bound to.
type AnswerLinkRequest struct {
	WorkflowID string
	// RunID is the run that sends the notice: its validator refuses another run's links.
	RunID          string
	IncidentID     string
	IncidentNumber int64
	// PLC is shown on the confirmation page.
	PLC string
	// Recipient is who the links were sent to: the address, or "group" for several.
	Recipient string
	Round     int
	// Question is QuestionPlanned (a PLC change: planned or not) or QuestionExpected (a device
	// owner: is this expected or not).
	Question string
}

// Questions a notice asks.
const (
	QuestionPlanned  = ""
	QuestionExpected = "expected"
)

// AnswerLinks are the two one-click links of a notice: Planned is the "yes" link (planned, or
// expected), NotPlanned the "no" link.
type AnswerLinks struct {
	Planned    string
	NotPlanned string
}

// AnswerLinker mints the signed answer links (internal/answer.Linker implements it). It is declared
// with this package's types only: the answer package imports workflows, and workflow helpers call
// these activities, so activities importing answer would close an import cycle.
type AnswerLinker interface {
	AnswerLinks(req AnswerLinkRequest) (AnswerLinks, error)
}

// Notifier emails control engineers about PLC changes. Its exported methods are activities.
type Notifier struct {
	Mailer Sender
	Links  AnswerLinker
}

// GroupRecipient is the Recipient of links in a notice to several people: the answer cannot say
// which of them clicked. A workflow that needs per-person attribution sends one notice per person.
const GroupRecipient = "group"

// SendPLCNotification emails one notice about one PLC change, with signed one-click links to
// answer "planned" or "not planned". The links are made here, so tokens never enter workflow
// history. The Message-ID is derived from the run, incident, PLC, round and recipients: a retried
// attempt sends the same Message-ID, and a receiving system that deduplicates drops the copy.
func (n *Notifier) SendPLCNotification(ctx context.Context, req PLCNotification) (NotificationResult, error) {
	return n.sendAnswerable(ctx, answerable{
		what: "PLC notification", recipients: req.Recipients, round: req.Round,
		links: AnswerLinkRequest{
			WorkflowID: req.WorkflowID, IncidentID: req.IncidentID, IncidentNumber: req.IncidentNumber,
			PLC: plcName(req.Change.PLC), Round: req.Round,
		},
		messageID: func(runID string, addrs []string) string { return notificationMessageID(req, runID, addrs) },
		render:    func(links AnswerLinks) (string, string, string) { return RenderPLCNotification(req, links) },
	})
}

// answerable is one email that carries signed answer links: what each kind of notice adds to the
// shared sending.
type answerable struct {
	what       string // for the log
	recipients []Recipient
	round      int
	// links is the link request without its Recipient and RunID, which sendAnswerable fills in.
	links     AnswerLinkRequest
	messageID func(runID string, addrs []string) string
	render    func(AnswerLinks) (subject, text, html string)
}

// sendAnswerable validates the recipients, makes the links (here, so tokens never enter workflow
// history), renders and sends the email under a Message-ID derived from the run, so a retried attempt
// sends the same one, and maps SMTP failures to retryable or final activity errors.
func (n *Notifier) sendAnswerable(ctx context.Context, a answerable) (NotificationResult, error) {
	rcpts, err := notificationRecipients(a.links.WorkflowID, a.round, a.recipients)
	if err != nil {
		return NotificationResult{}, temporal.NewNonRetryableApplicationError(err.Error(), FailureInvalidRequest, nil)
	}
	a.links.Recipient = GroupRecipient
	if len(rcpts) == 1 {
		a.links.Recipient = rcpts[0].Address
	}
	var runID string
	if activity.IsActivity(ctx) {
		runID = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	a.links.RunID = runID
	links, err := n.Links.AnswerLinks(a.links)
	if err != nil {
		// Signing fails only on bad input (the key was checked at start); a retry cannot fix it.
		return NotificationResult{}, temporal.NewNonRetryableApplicationError("make answer links", FailureInvalidRequest, err)
	}
	addrs := make([]string, len(rcpts))
	to := make([]string, len(rcpts))
	for i, r := range rcpts {
		addrs[i], to[i] = r.Address, r.String()
	}
	msgID := a.messageID(runID, addrs)
	subject, text, html := a.render(links)
	err = n.Mailer.Send(ctx, mail.Message{
		To:        to,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		MessageID: msgID,
		Headers: map[string]string{
			// RFC 3834: machine-generated, so auto-responders stay quiet; Exchange's equivalent.
			"Auto-Submitted":           "auto-generated",
			"X-Auto-Response-Suppress": "All",
		},
	})
	if err != nil {
		if mail.IsPermanent(err) {
			return NotificationResult{}, temporal.NewNonRetryableApplicationError("SMTP server rejected the notification", FailureSMTPRejected, err)
		}
		return NotificationResult{}, temporal.NewApplicationErrorWithCause("SMTP send failed, will retry", FailureSMTPTemporary, err)
	}
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Info(a.what+" sent", "messageId", msgID, "recipients", len(addrs), "round", a.round)
	}
	return NotificationResult{MessageID: "<" + msgID + ">", Recipients: addrs, SentAt: time.Now().UTC()}, nil
}

// recipient is one validated, deduplicated recipient.
type recipient struct {
	Name    string
	Address string
}

// String formats the mailbox with net/mail, which quotes or encodes the name as RFC 5322 needs.
func (r recipient) String() string {
	if r.Name == "" {
		return r.Address
	}
	return (&netmail.Address{Name: r.Name, Address: r.Address}).String()
}

// notificationRecipients validates the request and returns its recipients, deduplicated
// case-insensitively on the address, in the order given.
func notificationRecipients(workflowID string, round int, list []Recipient) ([]recipient, error) {
	if strings.TrimSpace(workflowID) == "" {
		return nil, fmt.Errorf("notification needs the workflow ID its answer links point at")
	}
	if len(workflowID) > 1000 {
		return nil, fmt.Errorf("workflow ID longer than 1000 bytes")
	}
	if round < 0 {
		return nil, fmt.Errorf("round %d is negative", round)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("notification needs at least one recipient")
	}
	if len(list) > maxNotificationRecipients {
		return nil, fmt.Errorf("%d recipients, more than %d", len(list), maxNotificationRecipients)
	}
	out := make([]recipient, 0, len(list))
	seen := make(map[string]bool, len(list))
	for i, r := range list {
		a, err := mail.ParseAddress(r.Email)
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i+1, err)
		}
		if a.Address != strings.TrimSpace(r.Email) {
			// Recipient.Email is an address, the name has its own field: a display name here
			// means the value was assembled from something else.
			return nil, fmt.Errorf("recipient %d: email must be a bare address", i+1)
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, recipient{Name: safetext.Line(r.Name, 100), Address: a.Address})
	}
	return out, nil
}

// notificationMessageID is "interlock.<32 hex>@interlock": sha256 over the run, incident, PLC,
// round and the sorted lower-cased recipients. The run ID keeps a later run for the same incident
// from being deduplicated against an earlier run's mail.
func notificationMessageID(req PLCNotification, runID string, addrs []string) string {
	return messageID(req.WorkflowID, runID, req.IncidentID, strconv.FormatInt(req.IncidentNumber, 10),
		req.Change.PLC.Name, req.Change.PLC.IP, strconv.Itoa(req.Round), sortedLower(addrs))
}

func sortedLower(addrs []string) string {
	sorted := make([]string, len(addrs))
	for i, a := range addrs {
		sorted[i] = strings.ToLower(a)
	}
	slices.Sort(sorted)
	return strings.Join(sorted, ",")
}

// messageID hashes parts, each followed by a separator, into "interlock.<32 hex>@interlock".
func messageID(parts ...string) string {
	h := sha256.New()
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0}) // separator: ("ab","c") and ("a","bc") must not collide
	}
	return "interlock." + hex.EncodeToString(h.Sum(nil))[:32] + "@interlock"
}
