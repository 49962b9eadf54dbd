package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/workflows"
)

func TestAcceptedBodyShape(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) {
		o.Rules = fakeRules{
			playbooks: []string{pbPLC, pbStation},
			matches: []rules.Match{
				{Rule: "plc-change", Order: 1, Actions: []string{"set severity High", "run playbook " + pbPLC}},
				{Rule: "new-station", Order: 2, Actions: []string{"run playbook " + pbStation}},
			},
		}
	})
	body := fixture(t, fixturePLC)
	ev, err := incident.Parse(body)
	require.NoError(t, err)

	a := do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)

	m := a.json(t)
	require.ElementsMatch(t, []string{"incident", "number", "event", "eventId", "rules", "runs"}, keys(m))
	resp := a.response(t)
	require.Equal(t, ev.Incident.ID, resp.Incident)
	require.Equal(t, ev.Incident.Number, resp.Number)
	require.Equal(t, ev.Type, resp.Event)
	require.Len(t, resp.Rules, 2)
	require.Equal(t, "plc-change", resp.Rules[0].Rule)

	// Rule order, the PerEvent playbook's ID carries the event, and the UI link escapes the ID's slashes.
	require.Len(t, resp.Runs, 2)
	wantIDs := []string{pbPLC + "/" + ev.Incident.ID + "/" + ev.ID, pbStation + "/" + ev.Incident.ID}
	for i, run := range resp.Runs {
		require.Equal(t, []string{pbPLC, pbStation}[i], run.Playbook)
		require.Equal(t, wantIDs[i], run.WorkflowID)
		require.Equal(t, "started", run.Status)
		require.NotEmpty(t, run.RunID)
		require.Equal(t, "http://ui.test:8233/namespaces/default/workflows/"+
			strings.ReplaceAll(run.WorkflowID, "/", "%2F")+"/"+run.RunID+"/history", run.URL)
	}
	run := resp.Runs[0]
	for _, k := range []string{"playbook", "workflowId", "runId", "status", "url"} {
		require.Contains(t, m["runs"].([]any)[0], k)
	}
	require.Equal(t, run.RunID, m["runs"].([]any)[0].(map[string]any)["runId"])

	// The workflow gets the incident as the rules left it, with its search attributes.
	starts := env.starter.recorded()
	require.Len(t, starts, 2)
	in, ok := starts[0].Input.(incident.Incident)
	require.True(t, ok, "input is %T", starts[0].Input)
	require.Contains(t, in.Labels, ruleLabel)
	require.NotContains(t, ev.Incident.Labels, ruleLabel)
	require.Equal(t, ev.Incident.ID, in.ID)
	require.Equal(t, pbPLC, starts[0].WorkflowType)
	require.Len(t, starts[0].SearchAttributes, len(workflows.SearchAttributesFor(pbPLC, in)))
	require.Equal(t, []string{"plc-change", "new-station"}, starts[0].Memo["interlockRules"])
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestNoRuleMatchedIs200WithEmptyRuns(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) { o.Rules = fakeRules{} })
	a := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusOK, a.code, "body: %s", a.body)
	m := a.json(t)
	require.Equal(t, []any{}, m["runs"])
	require.Equal(t, []any{}, m["rules"])
	require.Equal(t, "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", m["incident"])
	require.Empty(t, env.starter.recorded())
}

func TestRawDefenderRecordAndOwnForm(t *testing.T) {
	t.Parallel()
	for _, body := range [][]byte{
		fixture(t, fixtureRecord),
		[]byte(`{"id":"INC-42","title":"(MDIoT) Unauthorized PLC Programming","severity":"High"}`),
	} {
		env := newTestEnv(t, nil)
		a := do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
		require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
		require.Equal(t, "Create", string(a.response(t).Event))
	}
}

func TestRedeliveryIsDeduplicated(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	body := fixture(t, fixtureStation)
	first := do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON).response(t)
	second := do(t, http.MethodPost, env.url+"/v1/incidents", body, signedJSON(testNow)).response(t)
	// A hand-started run of the same playbook for the same incident is the same run too.
	byHand := do(t, http.MethodPost, env.url+"/v1/playbooks/"+pbStation+"/runs", body, bearerJSON)
	require.Equal(t, http.StatusAccepted, byHand.code)

	require.Equal(t, "started", first.Runs[0].Status)
	for _, again := range []Response{second, byHand.response(t)} {
		require.Equal(t, "deduplicated", again.Runs[0].Status)
		require.Equal(t, first.Runs[0].WorkflowID, again.Runs[0].WorkflowID)
		require.Equal(t, first.Runs[0].RunID, again.Runs[0].RunID)
	}
	require.Len(t, env.starter.recorded(), 1)
}

func TestConcurrentDuplicatesStartOnce(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	body := fixture(t, fixtureStation)
	const n = 20
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i] = do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
		})
	}
	close(start)
	wg.Wait()

	started := 0
	wid := ""
	for _, a := range answers {
		require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
		r := a.response(t)
		require.Len(t, r.Runs, 1)
		if r.Runs[0].Status == "started" {
			started++
		}
		if wid == "" {
			wid = r.Runs[0].WorkflowID
		}
		require.Equal(t, wid, r.Runs[0].WorkflowID)
	}
	require.Equal(t, 1, started)
	require.Len(t, env.starter.recorded(), 1)
}

func TestPartialFailureThenRetry(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) {
		o.Rules = fakeRules{playbooks: []string{pbStation, pbPLC}}
		// The second start of the first request finds Temporal gone; after that it is back.
		o.Starter.(*fakeStarter).fail = func(req StartRequest, call int) error {
			if call == 2 {
				return fmt.Errorf("%w: frontend restarting", ErrUnavailable)
			}
			return nil
		}
	})
	body := fixture(t, fixtureStation)

	a := do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
	require.Equal(t, http.StatusServiceUnavailable, a.code, "body: %s", a.body)
	require.Equal(t, "5", a.header.Get("Retry-After"))
	require.Contains(t, a.json(t)["error"], pbPLC)
	require.Len(t, env.starter.recorded(), 1, "the first playbook was started before the failure")

	retry := do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
	require.Equal(t, http.StatusAccepted, retry.code, "body: %s", retry.body)
	runs := retry.response(t).Runs
	require.Len(t, runs, 2)
	require.Equal(t, pbStation, runs[0].Playbook)
	require.Equal(t, "deduplicated", runs[0].Status)
	require.Equal(t, pbPLC, runs[1].Playbook)
	require.Equal(t, "started", runs[1].Status)
	require.Len(t, env.starter.recorded(), 2)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	body := fixture(t, fixtureStation)
	require.Equal(t, 202, do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON).code)
	require.Equal(t, 202, do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON).code)
	require.Equal(t, 401, do(t, http.MethodPost, env.url+"/v1/incidents", body, nil).code)
	require.Equal(t, 200, do(t, http.MethodGet, env.url+"/healthz", nil, nil).code)

	a := do(t, http.MethodGet, env.url+"/metrics", nil, nil)
	require.Equal(t, http.StatusOK, a.code)
	text := string(a.body)
	for _, want := range []string{
		`interlock_http_requests_total{code="202",route="/v1/incidents"} 2`,
		`interlock_http_requests_total{code="401",route="/v1/incidents"} 1`,
		`interlock_http_requests_total{code="200",route="/healthz"} 1`,
		`interlock_http_request_duration_seconds_count{route="/v1/incidents"} 3`,
		`interlock_rule_matches_total{rule="new-station"} 2`,
		`interlock_playbook_starts_total{playbook="NewEngineeringStation",result="started"} 1`,
		`interlock_playbook_starts_total{playbook="NewEngineeringStation",result="deduplicated"} 1`,
		`interlock_start_duration_seconds_count 2`,
		`go_goroutines`,
	} {
		require.Contains(t, text, want)
	}
}

func TestMetricsFailedStartsAndSharedRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	env := newTestEnv(t, func(o *Options) {
		o.Registerer = reg
		o.Starter.(*fakeStarter).fail = func(StartRequest, int) error { return ErrUnavailable }
	})
	require.Equal(t, 503, do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON).code)
	text := string(do(t, http.MethodGet, env.url+"/metrics", nil, nil).body)
	require.Contains(t, text, `interlock_playbook_starts_total{playbook="NewEngineeringStation",result="failed"} 1`)
	require.Contains(t, text, `interlock_http_requests_total{code="503",route="/v1/incidents"} 1`)

	// A second server on the same registry is a wiring mistake New must report, not panic on.
	_, err := New(Options{Rules: fakeRules{}, Playbooks: testRegistry(), Starter: newFakeStarter(), Registerer: reg})
	require.ErrorContains(t, err, "register intake metrics")
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var readyErr error
	env := newTestEnv(t, func(o *Options) {
		o.Ready = func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return readyErr
		}
	})
	a := do(t, http.MethodGet, env.url+"/healthz", nil, nil)
	require.Equal(t, http.StatusOK, a.code)
	require.Equal(t, "ok\n", string(a.body))

	a = do(t, http.MethodGet, env.url+"/readyz", nil, nil)
	require.Equal(t, http.StatusOK, a.code, "body: %s", a.body)

	mu.Lock()
	readyErr = errors.New("dial localhost:7233: connection refused")
	mu.Unlock()
	a = do(t, http.MethodGet, env.url+"/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, a.code)
	require.Contains(t, a.json(t)["error"], "connection refused")

	// Health stays up while Temporal is away: the process is alive, only not ready.
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, env.url+"/healthz", nil, nil).code)
}

func TestMounts(t *testing.T) {
	t.Parallel()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "mounted:"+r.URL.Path+":"+string(b))
	})
	env := newTestEnv(t, func(o *Options) {
		o.Mounts = map[string]http.Handler{
			"/v1/answers/": Public(echo),
			"/v1/private/": echo,
		}
	})

	a := do(t, http.MethodGet, env.url+"/v1/answers/abc?token=x", nil, nil)
	require.Equal(t, http.StatusOK, a.code, "a public mount needs no intake credentials")
	require.Equal(t, "mounted:/v1/answers/abc:", string(a.body))

	a = do(t, http.MethodPost, env.url+"/v1/private/x", []byte("hello"), nil)
	require.Equal(t, http.StatusUnauthorized, a.code)
	a = do(t, http.MethodPost, env.url+"/v1/private/x", []byte("hello"), signedJSON(testNow))
	require.Equal(t, http.StatusOK, a.code)
	require.Equal(t, "mounted:/v1/private/x:hello", string(a.body), "the handler gets the body the signature covered")

	for _, bad := range []string{"/v1/", "/v1/incidents", "/metrics", "relative/"} {
		_, err := New(Options{Rules: fakeRules{}, Playbooks: testRegistry(), Starter: newFakeStarter(),
			Mounts: map[string]http.Handler{bad: echo}})
		require.Error(t, err, bad)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	t.Parallel()
	full := Options{Rules: fakeRules{}, Playbooks: testRegistry(), Starter: newFakeStarter()}
	tests := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"rules", func(o *Options) { o.Rules = nil }, "Rules"},
		{"playbooks", func(o *Options) { o.Playbooks = nil }, "Playbooks"},
		{"starter", func(o *Options) { o.Starter = nil }, "Starter"},
		{"body limit", func(o *Options) { o.MaxBodyBytes = -1 }, "MaxBodyBytes"},
		{"unscrapeable registerer", func(o *Options) { o.Registerer = registererOnly{prometheus.NewRegistry()} }, "cannot be scraped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := full
			tc.mod(&o)
			_, err := New(o)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

type registererOnly struct{ prometheus.Registerer }

// TestSecretsNeverLogged drives every refusal path with a logger capturing output and checks no
// credential shows up in it.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	env := newTestEnv(t, func(o *Options) {
		o.Logger = newSyncLogger(&buf, &mu)
		o.Starter.(*fakeStarter).fail = func(StartRequest, int) error { return ErrUnavailable }
	})
	body := fixture(t, fixtureStation)
	do(t, http.MethodPost, env.url+"/v1/incidents", body, func(r *http.Request, b []byte) {
		r.Header.Set("Authorization", "Bearer "+testToken+"-wrong")
	})
	do(t, http.MethodPost, env.url+"/v1/incidents", body, bearerJSON)
	do(t, http.MethodPost, env.url+"/v1/incidents", body, signedJSON(testNow))
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, buf.String())
	require.NotContains(t, buf.String(), testToken)
	require.NotContains(t, buf.String(), testSecret)
}

// The real rules engine fits the interface the intake declares.
var _ RuleEvaluator = (*rules.Set)(nil)

func TestNoRulesLoaded(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) { o.Rules = rules.NewSet(nil) })
	a := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusServiceUnavailable, a.code, "an incident must not be answered 'nothing to do' without rules")
	require.Equal(t, "5", a.header.Get("Retry-After"))
	require.Empty(t, env.starter.recorded())

	a = do(t, http.MethodGet, env.url+"/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, a.code)
	require.Contains(t, a.json(t)["error"], "no automation rules")
}

func TestWithRealRulesSet(t *testing.T) {
	t.Parallel()
	engine, err := rules.Parse([]byte(`
rules:
  - name: raise
    order: 1
    trigger: created
    actions:
      - setSeverity: Informational
      - runPlaybook: `+pbStation+`
`), "test.yaml", []string{pbStation, pbPLC})
	require.NoError(t, err)
	env := newTestEnv(t, func(o *Options) { o.Rules = rules.NewSet(engine) })

	a := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	resp := a.response(t)
	require.Equal(t, "raise", resp.Rules[0].Rule)
	starts := env.starter.recorded()
	require.Len(t, starts, 1)
	require.Equal(t, incident.SeverityInformational, starts[0].Input.(incident.Incident).Severity)
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, env.url+"/readyz", nil, nil).code)
}

// TestRuleChangesAreWrittenBack: with RuleChanges on, what the rules changed (here severity and tags)
// rides with the playbook's start in its memo; when that run already exists (a redelivery), the
// changes start as one run of their own per event, deduplicated like the playbooks; with RuleChanges
// off nothing carries them.
func TestRuleChangesAreWrittenBack(t *testing.T) {
	t.Parallel()
	engine, err := rules.Parse([]byte(`
rules:
  - name: triage
    order: 1
    trigger: created
    actions:
      - setSeverity: High
      - addTags: [ot, new-asset]
      - runPlaybook: `+pbStation+`
`), "test.yaml", []string{pbStation, pbPLC})
	require.NoError(t, err)
	env := newTestEnv(t, func(o *Options) { o.Rules = rules.NewSet(engine); o.RuleChanges = true })

	a := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	resp := a.response(t)
	require.NotNil(t, resp.WriteBack)
	require.Equal(t, pbStation, resp.WriteBack.Playbook, "the playbook run carries the rules' changes")
	require.Equal(t, "started", resp.WriteBack.Status)
	require.Len(t, resp.Runs, 1)
	require.Equal(t, resp.Runs[0], *resp.WriteBack)
	starts := env.starter.recorded()
	require.Len(t, starts, 1, "one workflow for the incident, not a second for the rules' changes")
	rc, ok := starts[0].Memo[workflows.RuleChangesMemo].(workflows.RuleChanges)
	require.True(t, ok, "memo: %v", starts[0].Memo)
	require.Equal(t, []string{"triage"}, rc.Rules)
	require.Equal(t, "High", rc.Update.Severity)
	require.Equal(t, []string{"ot", "new-asset"}, rc.Update.AddTags)
	require.Empty(t, rc.Update.Status)
	require.NotEmpty(t, rc.Update.IncidentARMID)

	// A redelivery finds the playbook run there: the run that would carry the changes is not new, so
	// they get a run of their own, once per event.
	again := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON).response(t)
	require.Equal(t, "deduplicated", again.Runs[0].Status)
	require.Equal(t, workflows.RuleChangesName, again.WriteBack.Playbook)
	starts = env.starter.recorded()
	require.Len(t, starts, 2)
	require.Equal(t, workflows.RuleChangesName, starts[1].WorkflowType)
	require.Equal(t, rc, starts[1].Input.(workflows.RuleChanges))
	require.True(t, strings.HasPrefix(starts[1].WorkflowID, workflows.RuleChangesName+"/"))
	third := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON).response(t)
	require.Equal(t, "deduplicated", third.WriteBack.Status)
	require.Len(t, env.starter.recorded(), 2)

	off := newTestEnv(t, func(o *Options) { o.Rules = rules.NewSet(engine) })
	resp = do(t, http.MethodPost, off.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON).response(t)
	require.Nil(t, resp.WriteBack)
	require.Len(t, off.starter.recorded(), 1)
	require.NotContains(t, off.starter.recorded()[0].Memo, workflows.RuleChangesMemo)
}

// TestRuleChangesWithoutPlaybook: changes from rules that start no playbook get a run of their own.
func TestRuleChangesWithoutPlaybook(t *testing.T) {
	t.Parallel()
	engine, err := rules.Parse([]byte(`
rules:
  - name: tag
    order: 1
    trigger: created
    actions:
      - addTags: [ot]
`), "test.yaml", []string{pbStation, pbPLC})
	require.NoError(t, err)
	env := newTestEnv(t, func(o *Options) { o.Rules = rules.NewSet(engine); o.RuleChanges = true })
	a := do(t, http.MethodPost, env.url+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	resp := a.response(t)
	require.Empty(t, resp.Runs)
	require.Equal(t, workflows.RuleChangesName, resp.WriteBack.Playbook)
	starts := env.starter.recorded()
	require.Len(t, starts, 1)
	require.Equal(t, []string{"ot"}, starts[0].Input.(workflows.RuleChanges).Update.AddTags)
}
