package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Process is a process of the stack whose CPU and memory the report shows.
type Process struct {
	Role   string
	Covers string // what runs in it
	PID    int
}

// processes samples the watched processes and the host.
type processes struct {
	fs   procFS
	list []Process

	mu      sync.Mutex
	peakRSS map[int]uint64 // KB, sampled
	errs    map[int]string
}

// discoverProcesses finds what to watch: the processes given by pid, else the running `interlock dev`
// (from its lock file) and its Temporal and Mailpit children; and always this process. What cannot be
// found is said in a note instead of failing the bench.
func discoverProcesses(fs procFS, cfg Config, notes *[]string) *processes {
	ps := &processes{fs: fs, peakRSS: map[int]uint64{}, errs: map[int]string{}}
	add := func(role, covers string, pid int) {
		for i, w := range ps.list {
			if w.PID == pid { // worker and intake in one process: one row, both roles
				ps.list[i].Role += " + " + role
				return
			}
		}
		ps.list = append(ps.list, Process{Role: role, Covers: covers, PID: pid})
	}
	if len(cfg.Processes) > 0 {
		for _, p := range cfg.Processes {
			add(p.Role, p.Covers, p.PID)
		}
		add("bench", selfCovers, os.Getpid())
		return ps
	}
	dev := cfg.DevPID
	if dev == 0 && cfg.WorkerPID == 0 && cfg.IntakePID == 0 && cfg.DevStateDir != "" {
		pid, err := devPID(cfg.DevStateDir)
		if err != nil {
			*notes = append(*notes, "process CPU/RSS of the stack not measured: "+err.Error()+" (pass --dev-state-dir, or --worker-pid/--intake-pid/--temporal-pid)")
		}
		dev = pid
	}
	if dev != 0 {
		add("interlock dev", "worker (playbooks + activities) + intake + ServiceNow stand-in, one process", dev)
		if kids, err := fs.children(dev); err == nil {
			pids := make([]int, 0, len(kids))
			for pid := range kids {
				pids = append(pids, pid)
			}
			slices.Sort(pids)
			for _, pid := range pids {
				switch {
				case kids[pid] == "temporal" && cfg.TemporalPID == 0:
					add("temporal dev server", "Temporal frontend, history, matching and SQLite persistence, one process", pid)
				case kids[pid] == "mailpit" && cfg.MailpitPID == 0:
					add("mailpit", "SMTP server and message store", pid)
				}
			}
		}
	}
	if cfg.WorkerPID != 0 {
		add("worker", "playbooks + activities", cfg.WorkerPID)
	}
	if cfg.IntakePID != 0 {
		add("intake", "HTTP intake, rules, workflow starts", cfg.IntakePID)
	}
	if cfg.TemporalPID != 0 {
		add("temporal", "Temporal server", cfg.TemporalPID)
	}
	if cfg.MailpitPID != 0 {
		add("mailpit", "SMTP server and message store", cfg.MailpitPID)
	}
	add("bench", selfCovers, os.Getpid())
	return ps
}

// cpuSnapshot is the CPU counters at one moment.
type cpuSnapshot struct {
	at        time.Time
	ticks     map[int]uint64
	hostBusy  uint64
	hostTotal uint64
	cpus      int
}

func (ps *processes) snapshot() cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), ticks: map[int]uint64{}}
	for _, w := range ps.list {
		st, err := ps.fs.stat(w.PID)
		if err != nil {
			ps.mu.Lock()
			ps.errs[w.PID] = err.Error()
			ps.mu.Unlock()
			continue
		}
		s.ticks[w.PID] = st.CPUTicks
		ps.notePeak(w.PID, st.RSSKB)
	}
	s.hostBusy, s.hostTotal, s.cpus, _ = ps.fs.hostCPU()
	return s
}

func (ps *processes) notePeak(pid int, rss uint64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.peakRSS[pid] = max(ps.peakRSS[pid], rss)
}

// sample records peak RSS once a second until the returned stop is called.
func (ps *processes) sample(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			for _, w := range ps.list {
				if st, err := ps.fs.stat(w.PID); err == nil {
					ps.notePeak(w.PID, st.RSSKB)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// delta is the CPU seconds each process used between two snapshots, by role, and how many cores the
// whole host kept busy on average (everyone's work, not only the stack's: on a shared machine this
// says how contended the measurement was).
func (ps *processes) delta(a, b cpuSnapshot) (map[string]float64, float64) {
	out := map[string]float64{}
	for _, w := range ps.list {
		t0, ok0 := a.ticks[w.PID]
		t1, ok1 := b.ticks[w.PID]
		if ok0 && ok1 && t1 >= t0 {
			out[w.Role] = round3(float64(t1-t0) / clockTicks)
		}
	}
	var busy float64
	if secs := b.at.Sub(a.at).Seconds(); secs > 0 && b.hostTotal > a.hostTotal {
		busy = round3(float64(b.hostBusy-a.hostBusy) / float64(b.hostTotal-a.hostTotal) * float64(max(b.cpus, 1)))
	}
	return out, busy
}

// report is the per-process summary over the whole bench.
func (ps *processes) report(a, b cpuSnapshot, loadIncidents int, load *PhaseReport) ([]ProcessReport, HostReport) {
	cpu, busy := ps.delta(a, b)
	var out []ProcessReport
	for _, w := range ps.list {
		pr := ProcessReport{Role: w.Role, PID: w.PID, Covers: w.Covers}
		if v, ok := cpu[w.Role]; ok {
			pr.CPUSeconds = v
		}
		if load != nil && loadIncidents > 0 {
			if v, ok := load.CPU[w.Role]; ok {
				pr.LoadCPUSeconds = v
				pr.LoadCPUMsPerIncident = round3(v * 1000 / float64(loadIncidents))
			}
		}
		if st, err := ps.fs.stat(w.PID); err == nil {
			pr.HWMMB = round3(float64(st.HWMKB) / 1024)
			ps.notePeak(w.PID, st.RSSKB)
		}
		ps.mu.Lock()
		pr.PeakRSSMB = round3(float64(ps.peakRSS[w.PID]) / 1024)
		if e, bad := ps.errs[w.PID]; bad {
			pr.Error = e
		}
		ps.mu.Unlock()
		out = append(out, pr)
	}
	return out, HostReport{CPUs: b.cpus, BusyCores: busy}
}

// selfCovers says what the bench process's own CPU is, for the report.
var selfCovers = "load generator, pollers and PLC answers; in the ceiling phase also the ceiling worker (GOMAXPROCS " +
	fmt.Sprint(runtime.GOMAXPROCS(0)) + ")"
