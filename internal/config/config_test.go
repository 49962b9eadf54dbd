package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	_, err := Parse(nil, func(string) string { return "" })
	require.NoError(t, err)
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"servicenow.instanceURL": "INTERLOCK_SERVICENOW_INSTANCE_URL",
		"temporal.address":       "INTERLOCK_TEMPORAL_ADDRESS",
		"intake.maxBodyBytes":    "INTERLOCK_INTAKE_MAX_BODY_BYTES",
		"temporal.tlsCAFile":     "INTERLOCK_TEMPORAL_TLS_CA_FILE",
		"smtp.tlsPolicy":         "INTERLOCK_SMTP_TLS_POLICY",
	} {
		require.Equal(t, want, envName(key), key)
	}
}

func TestMarkdownTableListsKeys(t *testing.T) {
	t.Parallel()
	table := MarkdownTable()
	require.True(t, strings.Contains(table, "`temporal.address`"))
	require.True(t, strings.Contains(table, "`servicenow.password.file`"))
}
