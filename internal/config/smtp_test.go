package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSMTPValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantKey string // empty: valid
	}{
		{"defaults", ``, nil, ""},
		{"dev mailpit", "smtp: {tlsPolicy: none, port: 1025}", nil, ""},
		{"relay with auth over TLS", "smtp: {host: smtp.example.com, port: 587, username: relay}",
			map[string]string{"INTERLOCK_SMTP_PASSWORD": "hunter2-smtp"}, ""},
		{"loopback relay with clear-text auth", "smtp: {host: 127.0.0.1, tlsPolicy: none, username: relay}",
			map[string]string{"INTERLOCK_SMTP_PASSWORD": "hunter2-smtp"}, ""},
		{"clear-text auth across the network", "smtp: {host: smtp.example.com, tlsPolicy: none, username: relay}",
			map[string]string{"INTERLOCK_SMTP_PASSWORD": "hunter2-smtp"}, "smtp.tlsPolicy"},
		{"user without password", "smtp: {username: relay}", nil, "smtp.password"},
		{"password without user", ``, map[string]string{"INTERLOCK_SMTP_PASSWORD": "hunter2-smtp"}, "smtp.username"},
		{"bad from", "smtp: {from: interlock}", nil, "smtp.from"},
		{"list as from", `smtp: {from: "a@x.example, b@x.example"}`, nil, "smtp.from"},
		{"missing CA file", "smtp: {tlsCAFile: " + filepath.Join(dir, "nope.pem") + "}", nil, "smtp.tlsCAFile"},
		{"CA file without PEM", "smtp: {tlsCAFile: " + notPEM + "}", nil, "smtp.tlsCAFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.yaml), func(k string) string { return tt.env[k] })
			if tt.wantKey == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			errs, ok := errors.AsType[*Errors](err)
			require.True(t, ok)
			var keys []string
			for _, fe := range errs.List {
				keys = append(keys, fe.Key)
			}
			require.Contains(t, keys, tt.wantKey)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}
