package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
)

type noRules struct{}

func (noRules) Evaluate(incident.Event, time.Time) rules.Result { return rules.Result{} }

type noStarter struct{}

func (noStarter) Start(context.Context, intake.StartRequest) (intake.StartResult, error) {
	return intake.StartResult{}, errors.New("no Temporal in this test")
}

// TestOnTheIntake mounts the page and the API on the real intake with a bearer token configured: the
// browser's cookie gets through the intake to both, and nothing gets through without it or the token.
func TestOnTheIntake(t *testing.T) {
	const token = "intake-token"
	auth := NewAuth(AuthConfig{Tokens: []string{token}})
	page, err := NewPage(auth, PageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := intake.New(intake.Options{Rules: noRules{}, Playbooks: playbooks.NewRegistry(), Starter: noStarter{},
		Auth: intake.AuthConfig{Tokens: []string{token}}, Mounts: Mounts(auth, page, summaryAPI(fixture{}))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	api := ts.URL + "/workbook/api/summary?from=2026-11-26T00:00:00Z&to=2026-12-03T00:00:00Z&bucket=day"

	tests := []struct {
		name, url string
		headers   map[string]string
		want      int
	}{
		{"page without a session", ts.URL + "/workbook", nil, http.StatusSeeOther},
		{"sign-in form", ts.URL + "/workbook/login", nil, http.StatusOK},
		{"assets", ts.URL + "/workbook/assets/app.js", nil, http.StatusOK},
		{"API without a session", api, nil, http.StatusUnauthorized},
		{"API with the bearer token", api, map[string]string{"Authorization": "Bearer " + token}, http.StatusOK},
		{"API with a wrong token", api, map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		if res := get(t, tc.url, tc.headers); res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	res := postLogin(t, ts.URL, token)
	if len(res.Cookies()) != 1 {
		t.Fatalf("sign-in through the intake: %d, no cookie", res.StatusCode)
	}
	cookie := map[string]string{"Cookie": CookieName + "=" + res.Cookies()[0].Value}
	for _, u := range []string{ts.URL + "/workbook", api} {
		if res := get(t, u, cookie); res.StatusCode != http.StatusOK {
			t.Errorf("%s with the session cookie: %d, want 200", u, res.StatusCode)
		}
	}
}
