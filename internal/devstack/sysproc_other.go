//go:build unix && !linux

package devstack

import "syscall"

// sysProcAttr puts the child in its own process group. Only Linux offers a parent-death signal; elsewhere
// a parent that dies without Stop leaves the child running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
