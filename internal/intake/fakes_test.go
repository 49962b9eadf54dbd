package intake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
)

// Test playbooks: one per incident, one per event (so updates of an incident are separate runs).
const (
	pbStation = "NewEngineeringStation"
	pbPLC     = "UnauthorizedPLCChange"
)

// ruleLabel is the label fakeRules adds.
const ruleLabel = "touched-by-rules"

func testRegistry() *playbooks.Registry {
	return playbooks.NewRegistry(
		playbooks.Playbook{Name: pbStation, Summary: "ticket for a new engineering station"},
		playbooks.Playbook{Name: pbPLC, Summary: "mail the control engineers", PerEvent: true},
	)
}

// fakeRules selects the given playbooks for every event and adds a label, so tests can see the incident
// as the rules modified it reach the workflow.
type fakeRules struct {
	playbooks []string
	matches   []rules.Match
}

func (f fakeRules) Evaluate(ev incident.Event, _ time.Time) rules.Result {
	if len(f.playbooks) == 0 && len(f.matches) == 0 {
		return rules.Result{}
	}
	inc := ev.Incident
	inc.Labels = append(slices.Clip(inc.Labels), ruleLabel)
	return rules.Result{Incident: inc, Matches: f.matches, Playbooks: f.playbooks}
}

// fakeStarter behaves like Temporal with REJECT_DUPLICATE + FAIL: the first start of a workflow ID
// records a run, every later one reports that run as deduplicated. fail, when set, can refuse a start
// before anything is recorded.
type fakeStarter struct {
	mu    sync.Mutex
	runs  map[string]string // workflow ID → run ID
	reqs  []StartRequest    // starts recorded, in order
	calls int
	fail  func(req StartRequest, call int) error
}

func newFakeStarter() *fakeStarter { return &fakeStarter{runs: map[string]string{}} }

func (f *fakeStarter) Start(_ context.Context, req StartRequest) (StartResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(req, f.calls); err != nil {
			return StartResult{}, err
		}
	}
	if id, ok := f.runs[req.WorkflowID]; ok {
		return StartResult{RunID: id, Deduplicated: true}, nil
	}
	id := fmt.Sprintf("run-%d", len(f.runs)+1)
	f.runs[req.WorkflowID] = id
	f.reqs = append(f.reqs, req)
	return StartResult{RunID: id}, nil
}

func (f *fakeStarter) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// recorded returns the starts that created a run.
func (f *fakeStarter) recorded() []StartRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StartRequest(nil), f.reqs...)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	require.NoError(t, err)
	return b
}

const (
	fixtureStation = "sentinel-incident-new-engineering-station.json"
	fixturePLC     = "sentinel-incident-unauthorized-plc-programming.json"
	fixtureRecord  = "d4iot-securityalert-unauthorized-plc-programming.json"
)

func incidentWithID(id string) incident.Incident { return incident.Incident{ID: id, Title: "t"} }
