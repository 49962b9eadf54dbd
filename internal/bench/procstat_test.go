package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       procStat
		wantErr    bool
	}{
		{
			name: "plain",
			line: "5188 (interlock) S 1 5188 5188 0 -1 4194560 9000 0 0 0 1234 567 0 0 20 0 12 0 100 0 0",
			want: procStat{PPID: 1, Comm: "interlock", CPUTicks: 1801},
		},
		{
			name: "comm with spaces and parentheses",
			line: "42 (my (odd) proc) R 7 42 42 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 100 0 0",
			want: procStat{PPID: 7, Comm: "my (odd) proc", CPUTicks: 15},
		},
		{name: "no comm", line: "42 interlock S 1", wantErr: true},
		{name: "short", line: "42 (x) S 1 2 3", wantErr: true},
		{name: "not numbers", line: "42 (x) S one 0 0 0 0 0 0 0 0 0 a b 0 0", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat(tc.line)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// fakeProc writes a /proc lookalike: a parent with a temporal and a mailpit child, and /proc/stat.
func fakeProc(t *testing.T) procFS {
	t.Helper()
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	proc := func(pid, ppid int, comm string, utime, stime int, rssKB, hwmKB int) {
		stat := strconv.Itoa(pid) + " (" + comm + ") S " + strconv.Itoa(ppid) + " 0 0 0 -1 0 0 0 0 0 " +
			strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " 0 0 20 0 1 0 100 0 0\n"
		write(strconv.Itoa(pid)+"/stat", stat)
		write(strconv.Itoa(pid)+"/status", "Name:\t"+comm+"\nVmHWM:\t  "+strconv.Itoa(hwmKB)+" kB\nVmRSS:\t  "+strconv.Itoa(rssKB)+" kB\n")
	}
	proc(100, 1, "interlock", 300, 100, 51200, 60000)
	proc(101, 100, "temporal", 900, 100, 204800, 210000)
	proc(102, 100, "mailpit", 50, 50, 30000, 30000)
	proc(200, 1, "temporal", 1, 1, 1, 1) // someone else's
	write("stat", "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n")
	write("self", "") // non-numeric entries are skipped
	return procFS{root: root}
}

func TestProcFS(t *testing.T) {
	fs := fakeProc(t)
	st, err := fs.stat(101)
	require.NoError(t, err)
	require.Equal(t, procStat{PPID: 100, Comm: "temporal", CPUTicks: 1000, RSSKB: 204800, HWMKB: 210000}, st)

	kids, err := fs.children(100)
	require.NoError(t, err)
	require.Equal(t, map[int]string{101: "temporal", 102: "mailpit"}, kids)

	busy, total, cpus, err := fs.hostCPU()
	require.NoError(t, err)
	require.Equal(t, uint64(150), busy, "user + system; idle and iowait are not busy")
	require.Equal(t, uint64(1000), total)
	require.Equal(t, 2, cpus)

	_, err = fs.stat(999)
	require.Error(t, err)
}

func TestDiscoverProcesses(t *testing.T) {
	fs := fakeProc(t)
	var notes []string
	ps := discoverProcesses(fs, Config{DevPID: 100}, &notes)
	require.Empty(t, notes)
	var roles []string
	for _, w := range ps.list {
		roles = append(roles, w.Role)
	}
	require.Equal(t, []string{"interlock dev", "temporal dev server", "mailpit", "bench"}, roles)

	// Worker and intake in one separately run process: one row naming both.
	ps = discoverProcesses(fs, Config{WorkerPID: 100, IntakePID: 100, TemporalPID: 101}, &notes)
	require.Equal(t, "worker + intake", ps.list[0].Role)
	require.Equal(t, "temporal", ps.list[1].Role)

	a := cpuSnapshot{ticks: map[int]uint64{100: 400}, hostBusy: 100, hostTotal: 1000, cpus: 2}
	b := cpuSnapshot{ticks: map[int]uint64{100: 650}, hostBusy: 400, hostTotal: 1400, cpus: 2}
	b.at = a.at.Add(2e9)
	cpu, busy := ps.delta(a, b)
	require.Equal(t, map[string]float64{"worker + intake": 2.5}, cpu)
	require.Equal(t, 1.5, busy, "300 of 400 jiffies busy on 2 CPUs")
}

func TestDevPID(t *testing.T) {
	dir := t.TempDir()
	_, err := devPID(dir)
	require.ErrorContains(t, err, "no running interlock dev")

	path := filepath.Join(dir, "dev.lock")
	require.NoError(t, os.WriteFile(path, []byte("4242\n"), 0o644))
	_, err = devPID(dir)
	require.ErrorContains(t, err, "no running interlock dev holds", "a pid nobody holds the lock for is stale")

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	pid, err := devPID(dir)
	require.NoError(t, err)
	require.Equal(t, 4242, pid)
}
