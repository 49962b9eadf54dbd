package interlock_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
)

// TestREADMEConfigTable keeps the README's configuration table equal to what the code documents.
// After adding a key: go run ./cmd/interlock config docs, and paste it between the markers.
func TestREADMEConfigTable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), "<!-- config-table:start -->\n")
	require.True(t, ok, "README lacks the config table start marker")
	table, _, ok := strings.Cut(rest, "<!-- config-table:end -->")
	require.True(t, ok, "README lacks the config table end marker")
	require.Equal(t, config.MarkdownTable(), table, "README config table is stale: run `go run ./cmd/interlock config docs`")
}

// TestREADMECommands checks that the README's two commands are the Makefile's and CI's.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	ci, err := os.ReadFile(".ci/run")
	require.NoError(t, err)
	require.Contains(t, string(readme), "```sh\nmake run\n```")
	require.Contains(t, string(readme), "```sh\nmake test\n```")
	require.Contains(t, string(ci), "\nmake test\n")
}
