package bench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/procfs"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports (procfs assumes the same when it converts to seconds).
const clockTicks = 100

// procFS reads process and host CPU figures from a procfs; root is /proc except in tests.
type procFS struct {
	root string
}

// procStat is what one read of /proc/<pid>/stat and /status gives.
type procStat struct {
	PPID     int
	Comm     string
	CPUTicks uint64 // utime + stime: this process's own threads, not its children
	RSSKB    uint64 // VmRSS
	HWMKB    uint64 // VmHWM: peak RSS since the process started
}

func (p procFS) fs() (procfs.FS, error) {
	fs, err := procfs.NewFS(p.root)
	if err != nil {
		return procfs.FS{}, fmt.Errorf("open %s: %w", p.root, err)
	}
	return fs, nil
}

// stat reads one process.
func (p procFS) stat(pid int) (procStat, error) {
	fs, err := p.fs()
	if err != nil {
		return procStat{}, err
	}
	proc, err := fs.Proc(pid)
	if err != nil {
		return procStat{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	st, err := proc.Stat()
	if err != nil {
		return procStat{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	out := procStat{PPID: st.PPID, Comm: st.Comm, CPUTicks: uint64(st.UTime + st.STime)}
	if status, err := proc.NewStatus(); err == nil {
		out.RSSKB, out.HWMKB = status.VmRSS/1024, status.VmHWM/1024
	}
	return out, nil
}

// children lists the direct children of a process with their command names.
func (p procFS) children(ppid int) (map[int]string, error) {
	fs, err := p.fs()
	if err != nil {
		return nil, err
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := map[int]string{}
	for _, proc := range procs {
		if st, err := proc.Stat(); err == nil && st.PPID == ppid { // an error: exited meanwhile
			out[proc.PID] = st.Comm
		}
	}
	return out, nil
}

// hostCPU returns the busy and total ticks of all CPUs together, and the CPU count, from /proc/stat.
// Busy excludes idle and iowait; guest time is already counted in user and nice.
func (p procFS) hostCPU() (busy, total uint64, cpus int, err error) {
	fs, err := p.fs()
	if err != nil {
		return 0, 0, 0, err
	}
	st, err := fs.Stat()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read host cpu: %w", err)
	}
	c := st.CPUTotal
	ticks := func(secs float64) uint64 { return uint64(math.Round(secs * clockTicks)) }
	busy = ticks(c.User) + ticks(c.Nice) + ticks(c.System) + ticks(c.IRQ) + ticks(c.SoftIRQ) + ticks(c.Steal)
	total = busy + ticks(c.Idle) + ticks(c.Iowait)
	if total == 0 {
		return 0, 0, 0, errors.New("no cpu line in /proc/stat")
	}
	return busy, total, len(st.CPU), nil
}

// devPID reads the pid of the running `interlock dev` from its lock file. The file outlives the
// process, so a pid is only trusted while the lock is held: if this process can take the lock itself,
// nobody holds it and the pid is stale (and may belong to an unrelated process by now).
func devPID(stateDir string) (int, error) {
	path := filepath.Join(stateDir, "dev.lock")
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("no running interlock dev found: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, fmt.Errorf("no running interlock dev holds %s", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s holds no pid", path)
	}
	return pid, nil
}
