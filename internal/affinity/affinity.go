// Package affinity pins processes to CPUs (Linux sched_setaffinity), so that one machine can stand in
// for a deployment whose parts run on machines of their own: the bench gives Temporal its own cores
// and the rest of the stack the others.
package affinity

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse reads a CPU list such as "0", "0,2" or "1-3".
func Parse(list string) (unix.CPUSet, error) {
	var set unix.CPUSet
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= 1024 {
			return set, fmt.Errorf("affinity: %q is not a CPU list (like 0 or 1-3 or 0,2)", list)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

// Pin sets the CPUs of every thread of process pid (0: this process). A thread inherits its creator's
// CPUs, so threads started later follow; the threads are walked twice to catch those started during
// the first walk.
func Pin(pid int, set unix.CPUSet) error {
	dir := "/proc/self/task"
	if pid != 0 {
		dir = filepath.Join("/proc", strconv.Itoa(pid), "task")
	}
	for range 2 {
		tasks, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("affinity: list the threads of %d: %w", pid, err)
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("affinity: pin thread %d of %d: %w", tid, pid, err)
			}
		}
	}
	return nil
}
