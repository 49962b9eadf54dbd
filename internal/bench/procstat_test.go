package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

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
			strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " 0 0 20 0 1 0 100 0 0" + strings.Repeat(" 0", 32) + "\n"
		write(strconv.Itoa(pid)+"/stat", stat)
		write(strconv.Itoa(pid)+"/status", "Name:\t"+comm+"\nVmHWM:\t  "+strconv.Itoa(hwmKB)+" kB\nVmRSS:\t  "+strconv.Itoa(rssKB)+" kB\n")
	}
	// A comm with spaces and parentheses: the fields are counted from its last ")".
	proc(103, 100, "my (odd) proc", 10, 5, 1, 1)
	proc(100, 1, "interlock", 300, 100, 51200, 60000)
	proc(101, 100, "temporal", 900, 100, 204800, 210000)
	proc(102, 100, "mailpit", 50, 50, 30000, 30000)
	proc(200, 1, "temporal", 1, 1, 1, 1) // someone else's
	write("stat", "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n")
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
	require.Equal(t, map[int]string{101: "temporal", 102: "mailpit", 103: "my (odd) proc"}, kids)
	odd, err := fs.stat(103)
	require.NoError(t, err)
	require.Equal(t, uint64(15), odd.CPUTicks)

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
