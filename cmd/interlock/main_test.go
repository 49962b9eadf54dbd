package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func runCmd(t *testing.T, getenv map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), args, env{
		getenv: func(k string) string { return getenv[k] },
		stdout: &out, stderr: &errOut,
	})
	return out.String(), errOut.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := runCmd(t, nil, c.name, "--help")
			if err != nil {
				require.ErrorContains(t, err, "help requested")
			}
			require.Contains(t, stdout+stderr, "interlock "+c.name, "help names the command")
		})
	}
}

func TestConfigCheckPrintsEachErrorWithItsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("smtp:\n  port: 0\n  tlsPolicy: sometimes\nlog:\n  level: loud\n"), 0o600))
	stdout, _, err := runCmd(t, nil, "config", "check", bad)
	require.ErrorContains(t, err, "3 problem(s)")
	for _, want := range []string{"smtp.port: ", "smtp.tlsPolicy: ", "log.level: "} {
		require.Contains(t, stdout, want)
	}

	unknown := filepath.Join(dir, "unknown.yaml")
	require.NoError(t, os.WriteFile(unknown, []byte("smtp:\n  hots: x\n"), 0o600))
	stdout, _, err = runCmd(t, nil, "config", "check", unknown)
	require.Error(t, err)
	require.Contains(t, stdout, "hots")

	stdout, _, err = runCmd(t, map[string]string{"INTERLOCK_SMTP_PORT": "2525"}, "config", "check")
	require.NoError(t, err)
	require.Contains(t, stdout, "ok")
	_, _, err = runCmd(t, map[string]string{"INTERLOCK_SMTP_PORT": "many"}, "config", "check")
	require.Error(t, err)
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-that-must-not-leak"
	stdout, stderr, err := runCmd(t, map[string]string{
		"INTERLOCK_SERVICENOW_PASSWORD": secret,
		"INTERLOCK_SMTP_PORT":           "zero",
	}, "config", "check")
	require.Error(t, err)
	require.NotContains(t, stdout+stderr+err.Error(), secret)
}

func TestRulesCommands(t *testing.T) {
	t.Parallel()
	stdout, _, err := runCmd(t, nil, "rules", "test", "--incident", "../../testdata/sentinel-incident-unauthorized-plc-programming.json")
	require.NoError(t, err)
	require.Contains(t, stdout, "1. PLCReprogrammingNotice")

	bad := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("rules:\n  - name: x\n    order: 1\n    trigger: created\n    condition: nope(\n    actions: [{runPlaybook: Missing}]\n"), 0o600))
	_, _, err = runCmd(t, nil, "rules", "check", bad)
	require.Error(t, err)
	require.Contains(t, err.Error(), `"x"`, "the error names the rule")
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	_, stderr, err := runCmd(t, nil, "frobnicate")
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
	require.Contains(t, stderr, "Commands:")
}

// TestComposeCommandsExist: every Interlock service in docker-compose.yml runs a real subcommand.
func TestComposeCommandsExist(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var cf struct {
		Services map[string]struct {
			Build   any      `yaml:"build"`
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cf))
	known := map[string]bool{}
	for _, c := range commands() {
		known[c.name] = true
	}
	n := 0
	for name, s := range cf.Services {
		if s.Build == nil {
			continue
		}
		require.NotEmpty(t, s.Command, name)
		require.True(t, known[s.Command[0]], "service %s runs unknown command %q", name, s.Command[0])
		n++
	}
	require.Equal(t, 2, n, "the replicas and the stand-in are built from this repository")
}

func TestRulesTestAlert(t *testing.T) {
	t.Parallel()
	const record = "../../testdata/d4iot-securityalert-unauthorized-plc-programming.json"
	stdout, _, err := runCmd(t, nil, "rules", "test", "--alert", record)
	require.NoError(t, err)
	require.Contains(t, stdout, "✓ [100] Unauthorized PLC changes (Microsoft Defender for IoT): matched")
	require.Contains(t, stdout, "  create:     yes\n")
	require.Contains(t, stdout, "  severity:   High\n")

	stdout, _, err = runCmd(t, nil, "rules", "test", "--json", "--alert", record)
	require.NoError(t, err)
	var d struct {
		Rule     string   `json:"rule"`
		Create   bool     `json:"create"`
		Title    string   `json:"title"`
		Severity string   `json:"severity"`
		Tactics  []string `json:"tactics"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &d))
	require.Equal(t, "Unauthorized PLC changes (Microsoft Defender for IoT)", d.Rule)
	require.True(t, d.Create)
	require.Equal(t, "Unauthorized PLC Programming", d.Title)
	require.Equal(t, "High", d.Severity)
	require.Equal(t, "Persistence", d.Tactics[0])

	_, _, err = runCmd(t, nil, "rules", "test", "--alert", record, "--incident", record)
	require.ErrorContains(t, err, "not both")
	_, _, err = runCmd(t, nil, "rules", "test")
	require.ErrorContains(t, err, "--incident FILE or --alert FILE")
	_, _, err = runCmd(t, nil, "rules", "test", "--alert", "../../testdata/sentinel-incident-new-engineering-station.json")
	require.Error(t, err, "a Sentinel trigger body is not an alert record")

	stdout, _, err = runCmd(t, nil, "rules", "check")
	require.NoError(t, err)
	require.Contains(t, stdout, "[1000] One incident per alert")
	require.Contains(t, stdout, "ok, 8 rules (3 enabled), 16 incident rules")
}

// Without a file, config check says the defaults are in use and shows every effective value, where
// each came from, and no secret.
func TestConfigCheckWithoutAFileShowsTheEffectiveValues(t *testing.T) {
	t.Parallel()
	stdout, _, err := runCmd(t, map[string]string{"INTERLOCK_SMTP_PORT": "2525", "INTERLOCK_SERVICENOW_PASSWORD": "hunter2-secret"}, "config", "check")
	require.NoError(t, err)
	require.Contains(t, stdout, "the defaults are in use")
	require.Regexp(t, `smtp\.port\s+"2525"  \(from env\)`, stdout)
	require.Regexp(t, `temporal\.workflowTaskPollers\s+"8"\n`, stdout)
	require.Regexp(t, `servicenow\.password\s+set \(from the environment\)`, stdout)
	require.NotContains(t, stdout, "hunter2")
}

// An unknown command prints its error before the usage, and version explains itself.
func TestUnknownCommandErrorFirst(t *testing.T) {
	t.Parallel()
	_, stderr, err := runCmd(t, nil, "frobnicate")
	require.ErrorIs(t, err, errReported)
	require.True(t, strings.HasPrefix(stderr, `interlock: unknown command "frobnicate"`), stderr)
	require.Contains(t, stderr, "Commands:")
	_, stderr, err = runCmd(t, nil)
	require.ErrorIs(t, err, errReported)
	require.True(t, strings.HasPrefix(stderr, "interlock: no command given"), stderr)
	_, stderr, _ = runCmd(t, nil, "version", "--help")
	require.Contains(t, stderr, "Prints this binary's version")
}

// The parity playbooks' rules ship disabled; rules test --enable-all explains what each would do, and
// on the shipped fixtures every one of them matches at least one.
func TestRulesTestEnableAllExplainsTheDisabledRules(t *testing.T) {
	t.Parallel()
	fixtures, err := filepath.Glob("../../testdata/sentinel-incident-*.json")
	require.NoError(t, err)
	require.NotEmpty(t, fixtures)
	parity := []string{"High-importance device → triage", "Planned maintenance → auto-close", "Production line mailbox",
		"IoT device owner → expected or not", "Device CVEs → incident comments"}
	matched := map[string]bool{}
	for _, f := range fixtures {
		stdout, _, err := runCmd(t, nil, "rules", "test", "--enable-all", "--incident", f, "--at", "2026-11-26T12:00:00Z")
		require.NoError(t, err, f)
		require.Contains(t, stdout, "Turned on for this dry run: ", f)
		for _, name := range parity {
			if strings.Contains(stdout, "] "+name+": matched") {
				matched[name] = true
			}
		}
		plain, _, err := runCmd(t, nil, "rules", "test", "--incident", f, "--at", "2026-11-26T12:00:00Z")
		require.NoError(t, err, f)
		for _, name := range parity {
			require.Contains(t, plain, "] "+name+": skipped (", "%s without --enable-all", f)
			require.NotContains(t, plain, "] "+name+": matched", "%s without --enable-all", f)
		}
	}
	for _, name := range parity {
		require.True(t, matched[name], "no shipped fixture matches %q", name)
	}
}
