package devstack

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill it if the parent
// dies first, so no dev server outlives a crashed parent.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
