package faults_test

import "syscall"

// childProcAttr kills a worker child with the test binary (a -timeout panic, a Ctrl-C), so it never
// outlives the servers it polls.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
