package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIntakeTokenList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{" old , new ,", []string{"old", "new"}},
	}
	for _, tc := range tests {
		in := Intake{Tokens: NewSecret(tc.raw)}
		require.Equal(t, tc.want, in.TokenList(), tc.raw)
	}
}

func TestIntakeValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantKey string
	}{
		{name: "unauthenticated on loopback", env: map[string]string{
			"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED": "true", "INTERLOCK_INTAKE_LISTEN": "127.0.0.1:8480"}},
		{name: "unauthenticated on localhost", env: map[string]string{
			"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED": "true", "INTERLOCK_INTAKE_LISTEN": "localhost:8480"}},
		{name: "unauthenticated on IPv6 loopback", env: map[string]string{
			"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED": "true", "INTERLOCK_INTAKE_LISTEN": "[::1]:8480"}},
		{name: "unauthenticated on every interface", env: map[string]string{
			"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED": "true", "INTERLOCK_INTAKE_LISTEN": ":8480"},
			wantKey: "intake.allowUnauthenticated"},
		{name: "unauthenticated on a LAN address", env: map[string]string{
			"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED": "true", "INTERLOCK_INTAKE_LISTEN": "10.0.0.5:8480"},
			wantKey: "intake.allowUnauthenticated"},
		{name: "tokens that are only commas", env: map[string]string{"INTERLOCK_INTAKE_TOKENS": " , ,"},
			wantKey: "intake.tokens"},
		{name: "tokens", env: map[string]string{"INTERLOCK_INTAKE_TOKENS": "a-long-token,another-one"}},
		{name: "backlog check off", env: map[string]string{"INTERLOCK_INTAKE_MAX_BACKLOG": "0"}},
		{name: "negative backlog", env: map[string]string{"INTERLOCK_INTAKE_MAX_BACKLOG": "-1"}, wantKey: "intake.maxBacklog"},
		{name: "negative backlog age", env: map[string]string{"INTERLOCK_INTAKE_MAX_BACKLOG_AGE": "-1s"}, wantKey: "intake.maxBacklogAge"},
		{name: "retry after a minute", env: map[string]string{"INTERLOCK_INTAKE_RETRY_AFTER": "1m"}},
		{name: "retry after zero", env: map[string]string{"INTERLOCK_INTAKE_RETRY_AFTER": "0s"}, wantKey: "intake.retryAfter"},
		{name: "retry after a fraction", env: map[string]string{"INTERLOCK_INTAKE_RETRY_AFTER": "1500ms"}, wantKey: "intake.retryAfter"},
		{name: "retry after a day", env: map[string]string{"INTERLOCK_INTAKE_RETRY_AFTER": "24h"}, wantKey: "intake.retryAfter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(nil, func(k string) string { return tc.env[k] })
			if tc.wantKey == "" {
				require.NoError(t, err)
				return
			}
			errs, ok := errors.AsType[*Errors](err)
			require.True(t, ok, "error %v", err)
			keys := make([]string, len(errs.List))
			for i, fe := range errs.List {
				keys[i] = fe.Key
			}
			require.Contains(t, keys, tc.wantKey)
		})
	}
}
