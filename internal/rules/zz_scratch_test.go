package rules

import (
	"fmt"
	"testing"

	"github.com/expr-lang/expr"
)

type scratchEnv struct {
	F  func([]string) bool `expr:"f"`
	G  func(any) bool      `expr:"g"`
	H  func([]any) bool    `expr:"h"`
	L  []string            `expr:"l"`
	LA []any               `expr:"la"`
}

func TestScratch(t *testing.T) {
	for _, src := range []string{`f(["a"])`, `f(l)`, `f(la)`, `h(["a"])`, `h(l)`, `g(1)`, `f([1])`, `h([1])`, `f([l[0]])`} {
		_, err := expr.Compile(src, expr.Env(scratchEnv{}), expr.AsBool())
		fmt.Printf("%-12s %v\n", src, err)
	}
	p, _ := expr.Compile(`f(["a"])`, expr.Env(scratchEnv{}), expr.AsBool())
	fmt.Println(p.Disassemble())
	out, err := expr.Run(p, scratchEnv{F: func(s []string) bool { fmt.Println(s); return true }})
	fmt.Println(out, err)
}
