//go:build unix && !linux

package devservices

import "syscall"

// sysProcAttr puts the child in its own process group. Only Linux offers a parent-death signal; elsewhere
// a parent that dies without Stop leaves the child running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// children is Linux-only (/proc); elsewhere a Kill reaches only the process group.
func children(int) []int { return nil }

func alive(int) bool { return false }
