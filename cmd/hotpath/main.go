// Command hotpath runs hotpath's collector, its demo and its load generator.
//
//	hotpath collector [flags]   receive APM agents' data, store it, serve the UI (default 127.0.0.1:8200)
//	hotpath demo [flags]        collector + an example search service + load, in one command
//	hotpath loadgen [flags]     send traces to a collector (synthetic intake streams or the real Go
//	                            agent) and report what was acknowledged
//
// Every subcommand takes -h. Flags may also be given as HOTPATH_* environment variables (flag
// --secret-token is HOTPATH_SECRET_TOKEN); a flag on the command line wins over the environment.
//
// This is the only package that exits the process; everything it runs takes a context and returns an
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// newFlagSet returns the flag set of `hotpath name`, whose usage message is the usage line, about (a
// line each), and the flags.
func newFlagSet(name string, stderr io.Writer, about ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hotpath %s [flags]\n\n", name)
		for _, line := range about {
			fmt.Fprintln(stderr, line)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	return fs
}

// command is one subcommand: run parses args and runs until ctx is done or the work ends.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands; each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"demo":      {summary: "run the collector, an example search service and load, and print the UI address", run: runDemo},
		"collector": {summary: "receive APM agents' data, store it and serve it (default 127.0.0.1:8200)", run: runCollector},
		"loadgen":   {summary: "send traces to a collector (synthetic intake streams or the real Go agent) and report", run: runLoadgen},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "hotpath:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		return flag.ErrHelp
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: hotpath <command> [flags]")
	fmt.Fprintln(w)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, cmds[name].summary)
	}
}
