package affinity

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "0", want: []int{0}},
		{in: "1-3", want: []int{1, 2, 3}},
		{in: "0, 2", want: []int{0, 2}},
		{in: "", bad: true},
		{in: "3-1", bad: true},
		{in: "a", bad: true},
		{in: "-1", bad: true},
	}
	for _, c := range cases {
		set, err := Parse(c.in)
		if (err != nil) != c.bad {
			t.Fatalf("Parse(%q) error = %v, want bad=%v", c.in, err, c.bad)
		}
		if c.bad {
			continue
		}
		if set.Count() != len(c.want) {
			t.Fatalf("Parse(%q) has %d CPUs, want %v", c.in, set.Count(), c.want)
		}
		for _, cpu := range c.want {
			if !set.IsSet(cpu) {
				t.Fatalf("Parse(%q) lacks CPU %d", c.in, cpu)
			}
		}
	}
}

// TestPinChild pins a running child process and reads its CPUs back from the kernel.
func TestPinChild(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	first := -1
	for c := range 1024 {
		if all.IsSet(c) {
			first = c
			break
		}
	}
	var one unix.CPUSet
	one.Set(first)
	if err := Pin(cmd.Process.Pid, one); err != nil {
		t.Fatal(err)
	}
	var got unix.CPUSet
	if err := unix.SchedGetaffinity(cmd.Process.Pid, &got); err != nil {
		t.Fatal(err)
	}
	if got != one {
		t.Fatalf("child's CPUs = %v, want only CPU %d", got, first)
	}
}
