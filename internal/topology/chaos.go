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
	c := &chaos{
		t:    t,
		opts: opts,
		down: map[int]bool{},
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
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
			c.wg.Wait()
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.rep
		case <-tick:
			c.kill(ctx, workers, &c.rep.WorkerKills)
		case <-intakeAt:
			c.kill(ctx, intakes, &c.rep.IntakeKills)
		case <-temporalAt:
			c.restartTemporal(ctx)
		}
	}
}

// chaos is one Chaos run: its report, and the members it has killed that are not back yet.
type chaos struct {
	t    *Topology
	opts ChaosOptions

	mu   sync.Mutex
	rep  ChaosReport
	wg   sync.WaitGroup
	down map[int]bool // killed, not yet back: not picked again
	rng  *rand.Rand
}

func (c *chaos) fail(what string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rep.Errors = append(c.rep.Errors, what+": "+err.Error())
}

// kill kills a random member of from that is up, counts it in count and has it restarted.
func (c *chaos) kill(ctx context.Context, from []int, count *int) {
	c.mu.Lock()
	var up []int
	for _, i := range from {
		if !c.down[i] {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		c.mu.Unlock()
		return
	}
	i := up[c.rng.IntN(len(up))]
	c.down[i] = true
	c.mu.Unlock()
	if err := c.t.Kill(i); err != nil {
		c.fail("kill "+c.t.Members()[i].Name(), err)
		c.mu.Lock()
		delete(c.down, i)
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	*count++
	c.mu.Unlock()
	c.wg.Add(1)
	go c.restart(ctx, i)
}

// restart brings member i back after RestartAfter. A member killed is restarted even after ctx ends:
// the deployment must end whole.
func (c *chaos) restart(ctx context.Context, i int) {
	defer c.wg.Done()
	time.Sleep(c.opts.RestartAfter)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	// A member started while Temporal itself restarts exits at its first dial: try again, as a
	// supervisor (systemd, Kubernetes) would.
	for {
		err := c.t.Restart(rctx, i)
		if err == nil {
			break
		}
		if rctx.Err() != nil {
			c.fail("restart "+c.t.Members()[i].Name(), err)
			break
		}
		time.Sleep(time.Second)
	}
	c.mu.Lock()
	delete(c.down, i)
	c.mu.Unlock()
}

func (c *chaos) restartTemporal(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.t.Temporal.Restart(rctx); err != nil {
		c.fail("restart Temporal", err)
		return
	}
	c.mu.Lock()
	c.rep.TemporalRestarts++
	c.mu.Unlock()
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
