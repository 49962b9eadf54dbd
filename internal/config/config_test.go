package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
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

// TestCodeDefaults keeps the defaults written in code sound: each names a key without a tag default, and
// a list's items hold no comma (the default is the list joined with commas, as the environment gives it).
func TestCodeDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, incident.PLCChangeTitles(), Default().Playbooks.PLCReprogramming.AlertTitles)
	for _, title := range incident.PLCChangeTitles() {
		require.NotContains(t, title, ",")
	}
	seen := map[string]bool{}
	walk(reflect.TypeFor[Config](), "", func(key string, f reflect.StructField) {
		if _, ok := codeDefaults()[key]; ok {
			_, tagged := f.Tag.Lookup("default")
			require.False(t, tagged, "%s has a default in its tag and in codeDefaults", key)
			seen[key] = true
		}
	}, nil)
	for key := range codeDefaults() {
		require.True(t, seen[key], "codeDefaults names %s, which is no key", key)
	}
}
