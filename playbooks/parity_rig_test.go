package playbooks

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/mail"
	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/incident"
)

// parityRig runs the AutoTriage, AutoClose and MailByLine playbooks with the real DescribeAssets (on
// testdata/assets.yaml), FindPlannedChange and SendLineNotification activities, and records the
// write-backs and emails.
type parityRig struct {
	env *testsuite.TestWorkflowEnvironment

	// Faults: each fails every attempt of its activity, non-retryably.
	assetsErr, commentErr, updateErr, lookupErr error
	// rejectMail fails the messages to these addresses.
	rejectMail []string

	mu       sync.Mutex
	comments []activities.CommentRequest
	updates  []activities.UpdateRequest
	mails    []mail.Message
	lookups  []activities.PlannedChangeRequest
	assetsN  int
}

type parityOptions struct {
	dir      *assets.Directory // nil: no directory configured
	windows  []activities.MaintenanceWindow
	requests activities.ChangeRequests
	triage   TriageSettings
	close    CloseSettings
	mailLine MailLineSettings
}

func loadTestAssets(t testing.TB) *assets.Directory {
	t.Helper()
	dir, err := assets.Load("../testdata/assets.yaml")
	require.NoError(t, err)
	return dir
}

func newParityRig(t *testing.T, o parityOptions) *parityRig {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	r := &parityRig{env: suite.NewTestWorkflowEnvironment()}
	layer := &activities.IncidentLayer{}
	if o.dir != nil {
		layer.Assets, layer.Places = o.dir, o.dir
	}
	changes, err := activities.NewPlannedChanges(o.windows, o.requests)
	require.NoError(t, err)
	notifier := &activities.Notifier{Mailer: r}
	fail := func(err error) error { return temporal.NewNonRetryableApplicationError(err.Error(), "Injected", nil) }

	activities.DescribeAssets.Register(r.env, func(ctx context.Context, req activities.AssetsRequest) (activities.AssetsResult, error) {
		r.mu.Lock()
		r.assetsN++
		r.mu.Unlock()
		if r.assetsErr != nil {
			return activities.AssetsResult{}, fail(r.assetsErr)
		}
		return layer.DescribeAssets(ctx, req)
	})
	activities.FindPlannedChange.Register(r.env, func(ctx context.Context, req activities.PlannedChangeRequest) (activities.PlannedChange, error) {
		r.mu.Lock()
		r.lookups = append(r.lookups, req)
		r.mu.Unlock()
		if r.lookupErr != nil {
			return activities.PlannedChange{}, fail(r.lookupErr)
		}
		return changes.FindPlannedChange(ctx, req)
	})
	activities.SendLineNotification.Register(r.env, notifier.SendLineNotification)
	activities.AddIncidentComment.Register(r.env, func(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.comments = append(r.comments, req)
		if r.commentErr != nil {
			return activities.WriteResult{}, fail(r.commentErr)
		}
		return activities.WriteResult{Via: "log", CommentID: req.CommentID}, nil
	})
	activities.UpdateIncident.Register(r.env, func(_ context.Context, req activities.UpdateRequest) (activities.WriteResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.updates = append(r.updates, req)
		if r.updateErr != nil {
			return activities.WriteResult{}, fail(r.updateErr)
		}
		return activities.WriteResult{Via: "log", Changes: []string{"updated"}}, nil
	})
	r.env.RegisterWorkflowWithOptions((&AutoTriage{Settings: o.triage}).Run, workflow.RegisterOptions{Name: AutoTriageName})
	r.env.RegisterWorkflowWithOptions((&AutoClose{Settings: o.close}).Run, workflow.RegisterOptions{Name: AutoCloseName})
	r.env.RegisterWorkflowWithOptions((&MailByLine{Settings: o.mailLine}).Run, workflow.RegisterOptions{Name: MailByLineName})
	return r
}

// Send is the rig's SMTP server.
func (r *parityRig) Send(_ context.Context, m mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, to := range m.To {
		for _, bad := range r.rejectMail {
			if strings.Contains(to, bad) {
				return &mail.InvalidMessageError{Reason: "550 no such mailbox"}
			}
		}
	}
	r.mails = append(r.mails, m)
	return nil
}

// run executes the playbook and decodes its result into res; it returns the workflow's error.
func (r *parityRig) run(t *testing.T, name string, inc incident.Incident, res any) error {
	t.Helper()
	r.env.ExecuteWorkflow(name, inc)
	require.True(t, r.env.IsWorkflowCompleted())
	if err := r.env.GetWorkflowError(); err != nil {
		return err
	}
	require.NoError(t, r.env.GetWorkflowResult(res))
	return nil
}

var parityT0 = time.Date(2026, 11, 26, 21, 30, 0, 0, time.UTC)

// otIncident is a Defender for IoT incident with the given devices.
func otIncident(severity string, devices ...incident.Device) incident.Incident {
	return incident.Incident{
		ID: "inc-7", Number: 7, Title: "(MDIoT) Unauthorized PLC Programming", Severity: severity, Status: incident.StatusNew,
		URL: "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/inc-7", Created: parityT0, FirstActivity: parityT0,
		Alerts:  []incident.Alert{{ID: "a1", Title: "(MDIoT) Unauthorized PLC Programming", SensorID: "sensor-rtm-l3", SourceAddress: "10.20.3.45", StartTime: parityT0}},
		Devices: devices,
	}
}
