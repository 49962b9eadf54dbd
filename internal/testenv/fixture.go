package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ModuleRoot is the folder of the go.mod above the test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test's directory")
		dir = parent
	}
}

// Fixture reads a payload from the module's testdata and makes its incidents and devices unique to
// tag, so tests sharing one stack never see each other's tickets or emails: incident names become
// nes-<tag> / plc-<tag>, the workstation ENG-WS-<tag> with MAC 00:1a:2b:<MACTail(tag)>, the PLC PLC-<tag>.
func Fixture(t testing.TB, name, tag string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ModuleRoot(t), "testdata", name))
	require.NoError(t, err)
	return []byte(strings.NewReplacer(
		"3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", "nes-"+tag,
		"9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "plc-"+tag,
		"00:1a:2b:3c:4d:5e", "00:1a:2b:"+MACTail(tag),
		"ENG-WS-07", "ENG-WS-"+tag,
		"PLC-L3-01", "PLC-"+tag,
	).Replace(string(b)))
}

// MACTail is the last three octets of the workstation MAC that Fixture gives tag (FNV-1a of it).
func MACTail(tag string) string {
	var h uint32 = 2166136261
	for i := range len(tag) {
		h = (h ^ uint32(tag[i])) * 16777619
	}
	return fmt.Sprintf("%02x:%02x:%02x", byte(h), byte(h>>8), byte(h>>16))
}
