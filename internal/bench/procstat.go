package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It is 100 on every Linux
// architecture Go supports (the kernel exports it as a constant, not a tunable), and reading it with
// sysconf would need cgo.
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

// stat reads one process.
func (p procFS) stat(pid int) (procStat, error) {
	data, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	st, err := parseStat(string(data))
	if err != nil {
		return procStat{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if status, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "status")); err == nil {
		st.RSSKB = statusKB(string(status), "VmRSS:")
		st.HWMKB = statusKB(string(status), "VmHWM:")
	}
	return st, nil
}

// parseStat reads ppid, comm, utime and stime from a /proc/<pid>/stat line. The comm field is in
// parentheses and may itself contain spaces and parentheses, so the fields are counted from the last
// ")".
func parseStat(line string) (procStat, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("malformed stat line")
	}
	fields := strings.Fields(line[end+1:])
	// After comm: state(3) ppid(4) ... utime(14) stime(15), so utime is fields[11] here.
	if len(fields) < 13 {
		return procStat{}, errors.New("stat line too short")
	}
	ppid, err1 := strconv.Atoi(fields[1])
	utime, err2 := strconv.ParseUint(fields[11], 10, 64)
	stime, err3 := strconv.ParseUint(fields[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, fmt.Errorf("malformed stat line: %w", err)
	}
	return procStat{PPID: ppid, Comm: line[open+1 : end], CPUTicks: utime + stime}, nil
}

// statusKB reads a "Key:   1234 kB" line of /proc/<pid>/status.
func statusKB(status, key string) uint64 {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// children lists the direct children of a process with their command names.
func (p procFS) children(ppid int) (map[int]string, error) {
	entries, err := os.ReadDir(p.root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(p.root, e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		if st, err := parseStat(string(data)); err == nil && st.PPID == ppid {
			out[pid] = st.Comm
		}
	}
	return out, nil
}

// hostCPU returns the busy and total jiffies of all CPUs together, and the CPU count, from /proc/stat.
// Busy excludes idle and iowait.
func (p procFS) hostCPU() (busy, total uint64, cpus int, err error) {
	data, err := os.ReadFile(filepath.Join(p.root, "stat"))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read host cpu: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "cpu":
			for i, v := range f[1:] {
				n, _ := strconv.ParseUint(v, 10, 64)
				// guest and guest_nice (fields 9, 10) are already counted in user and nice.
				if i >= 8 {
					break
				}
				total += n
				if i != 3 && i != 4 { // idle, iowait
					busy += n
				}
			}
		case strings.HasPrefix(f[0], "cpu"):
			cpus++
		}
	}
	if total == 0 {
		return 0, 0, 0, errors.New("no cpu line in /proc/stat")
	}
	return busy, total, cpus, nil
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
