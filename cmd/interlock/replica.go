package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/interlock-soar/interlock/workflows"
)

const replicaSynopsis = `replica [--config FILE] [--listen ADDR] [--register-search-attributes]

Runs one replica of Interlock's production shape: the worker and the intake in one process, sharing
one Temporal client. Because the client that starts a playbook run also polls for it, Temporal hands
the run's first workflow task back with the start (eager start), and a run usually completes in that
one task without waiting in the task queue. A separate intake ('interlock serve') cannot do that: its
starts queue for a worker in another process.

Scale out by running N identical replicas (same configuration, same Temporal namespace) behind a load
balancer, or by giving the sender their addresses; any replica takes any request, and a run started
by one replica is finished by any if that one dies. Stopping (SIGTERM) first finishes the HTTP
requests in flight, then lets the worker's in-flight activity attempts finish for
temporal.shutdownTimeout.`

// runReplica serves the intake and runs the worker in this process until ctx is done or the worker
// stops by itself.
func runReplica(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "replica", replicaSynopsis)
	listen := fs.String("listen", "", "address to listen on (overrides intake.listen)")
	register := fs.Bool("register-search-attributes", false, "register Interlock's search attributes on the namespace first (needs operator rights)")
	profile := profileFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := profile()
	if err != nil {
		return err
	}
	defer stopProfile()
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("replica takes no arguments, got %q", fs.Args())
	}
	p, err := startWorkerProcess(ctx, e, *cfgPath, *listen, *register)
	if err != nil {
		return err
	}
	defer p.client.Close()
	cfg, w, logger := p.cfg, p.worker, p.logger
	in, err := startIntake(ctx, cfg, p.client, p.metrics, logger)
	if err != nil {
		return errors.Join(err, w.Stop())
	}
	ln, err := net.Listen("tcp", cfg.Intake.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("intake: %w", err), w.Stop())
	}
	logger.Info("replica serving", "addr", ln.Addr().String(), "taskQueue", workflows.TaskQueue, "temporal", cfg.Temporal.Address)

	// A replica whose worker died must not keep taking requests it cannot run fast: it exits, and the
	// process supervisor restarts it.
	sctx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	go func() {
		select {
		case <-w.Done():
			stopServing()
		case <-sctx.Done():
		}
	}()
	herr := serveHTTP(sctx, ln, in.Handler, logger)
	died := false
	select {
	case <-w.Done():
		died = ctx.Err() == nil
	default:
	}
	werr := w.Stop()
	if died {
		werr = fmt.Errorf("worker stopped: %w", cmp.Or(werr, errors.New("no error given")))
	}
	return errors.Join(herr, werr)
}
