package topology

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ChaosOptions is what Chaos does to a running deployment.
type ChaosOptions struct {
	// KillEvery is how often a random worker (or replica) gets SIGKILL; it is restarted after
	// RestartAfter. 0 kills none.
	KillEvery    time.Duration
	RestartAfter time.Duration
	// KillIntakeAfter kills one intake once, this long after the start (0: never), and restarts it
	// after RestartAfter. In the combined shape a replica is an intake.
	KillIntakeAfter time.Duration
	// RestartTemporalAfter restarts the Temporal server once, this long after the start (0: never).
	RestartTemporalAfter time.Duration
	// Seed makes the choice of victims repeatable.
	Seed uint64
}

// ChaosReport counts what Chaos did.
type ChaosReport struct {
	WorkerKills      int      `json:"workerKills"`
	IntakeKills      int      `json:"intakeKills"`
	TemporalRestarts int      `json:"temporalRestarts"`
	Errors           []string `json:"errors,omitempty"`
}

func (r ChaosReport) String() string {
	return fmt.Sprintf("%d worker kills, %d intake kills, %d Temporal restarts, %d errors", r.WorkerKills, r.IntakeKills, r.TemporalRestarts, len(r.Errors))
}

// Chaos kills and restarts parts of the deployment until ctx is done, then waits for every restart
// it began, so the deployment is whole again when it returns.
func (t *Topology) Chaos(ctx context.Context, opts ChaosOptions) ChaosReport {
	var (
		mu   sync.Mutex
		rep  ChaosReport
		wg   sync.WaitGroup
		down = map[int]bool{} // killed, not yet back: not picked again
		rng  = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	)
	fail := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		rep.Errors = append(rep.Errors, what+": "+err.Error())
	}
	// A member killed is restarted even after ctx ends: the deployment must end whole.
	restart := func(i int) {
		defer wg.Done()
		time.Sleep(opts.RestartAfter)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		// A member started while Temporal itself restarts exits at its first dial: try again, as a
		// supervisor (systemd, Kubernetes) would.
		for {
			err := t.Restart(rctx, i)
			if err == nil {
				break
			}
			if rctx.Err() != nil {
				fail("restart "+t.Members()[i].Name(), err)
				break
			}
			time.Sleep(time.Second)
		}
		mu.Lock()
		delete(down, i)
		mu.Unlock()
	}
	kill := func(from []int, count *int) {
		mu.Lock()
		var up []int
		for _, i := range from {
			if !down[i] {
				up = append(up, i)
			}
		}
		if len(up) == 0 {
			mu.Unlock()
			return
		}
		i := up[rng.IntN(len(up))]
		down[i] = true
		mu.Unlock()
		if err := t.Kill(i); err != nil {
			fail("kill "+t.Members()[i].Name(), err)
			mu.Lock()
			delete(down, i)
			mu.Unlock()
			return
		}
		mu.Lock()
		*count++
		mu.Unlock()
		wg.Add(1)
		go restart(i)
	}
	workers, intakes := t.byRole()
	var tick <-chan time.Time
	if opts.KillEvery > 0 && len(workers) > 0 {
		ticker := time.NewTicker(opts.KillEvery)
		defer ticker.Stop()
		tick = ticker.C
	}
	intakeAt, temporalAt := after(opts.KillIntakeAfter), after(opts.RestartTemporalAfter)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			return rep
		case <-tick:
			kill(workers, &rep.WorkerKills)
		case <-intakeAt:
			kill(intakes, &rep.IntakeKills)
		case <-temporalAt:
			rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			if err := t.Temporal.Restart(rctx); err != nil {
				fail("restart Temporal", err)
			} else {
				mu.Lock()
				rep.TemporalRestarts++
				mu.Unlock()
			}
			cancel()
		}
	}
}

// byRole returns the indexes of the members that run playbooks and of those that take posts.
func (t *Topology) byRole() (workers, intakes []int) {
	for i, m := range t.Members() {
		switch m.Role {
		case RoleWorker:
			workers = append(workers, i)
		case RoleIntake:
			intakes = append(intakes, i)
		case RoleReplica:
			workers, intakes = append(workers, i), append(intakes, i)
		}
	}
	return workers, intakes
}

// after fires once after d; never when d is 0.
func after(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}
