//go:build !linux

package faults_test

import "syscall"

// childProcAttr: only Linux has a parent-death signal; elsewhere the test's cleanup stops the child.
func childProcAttr() *syscall.SysProcAttr { return nil }
