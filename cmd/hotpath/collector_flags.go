package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envPrefix is the prefix of the environment variables that stand for flags: --secret-token is
// HOTPATH_SECRET_TOKEN.
const envPrefix = "HOTPATH_"

// envName returns the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args into fs, refuses positional arguments, then sets every flag not given from its
// environment variable (applyEnv). Errors after the parse start with fs's name, the command's.
func parseFlags(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	if err := applyEnv(fs, lookupEnv); err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return nil
}

// applyEnv sets every flag of fs not given on the command line from its environment variable, if set.
// A repeatable flag (a listFlag) takes a comma-separated list. Call it after fs.Parse; fs.Visit then
// counts the flags set from the environment as given.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		values := []string{v}
		if _, list := f.Value.(*listFlag); list {
			values = strings.Split(v, ",")
		}
		for _, v := range values {
			if err := fs.Set(f.Name, v); err != nil {
				// Never echo the value: it may be a secret.
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// secretFlag is a string flag whose value -h never prints.
type secretFlag string

func (s *secretFlag) String() string { return "" }

func (s *secretFlag) Set(v string) error {
	*s = secretFlag(v)
	return nil
}

// retentionFlag is a duration that also accepts days ("7d", "1.5d") and "off" (keep everything).
type retentionFlag struct{ d time.Duration }

func (r *retentionFlag) String() string {
	switch {
	case r.d < 0:
		return "off"
	case r.d%(24*time.Hour) == 0 && r.d > 0:
		return strconv.FormatInt(int64(r.d/(24*time.Hour)), 10) + "d"
	}
	return r.d.String()
}

func (r *retentionFlag) Set(v string) error {
	if v == "off" {
		r.d = -1
		return nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid retention %q: want a positive number of days (7d), a duration (36h) or off", v)
		}
		r.d = time.Duration(n * float64(24*time.Hour))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("invalid retention %q: want a positive number of days (7d), a duration (36h) or off", v)
	}
	r.d = d
	return nil
}

// minFreeFlag is --min-free-disk: a size (byteSizeFlag), or off (0 and off mean no floor). Unset, the
// store's default applies (pebble.Config.MinFreeDisk).
type minFreeFlag struct{ n int64 } // pebble.Config.MinFreeDisk: 0 default, < 0 none

func (f *minFreeFlag) String() string {
	switch {
	case f.n == 0:
		return "1% of the filesystem, at most 256MiB"
	case f.n < 0:
		return "off"
	}
	return strconv.FormatInt(f.n, 10)
}

func (f *minFreeFlag) Set(v string) error {
	if v == "off" {
		f.n = -1
		return nil
	}
	var b byteSizeFlag
	if err := b.Set(v); err != nil {
		return err
	}
	if f.n = b.n; f.n == 0 {
		f.n = -1
	}
	return nil
}

// byteSizeFlag is a size in bytes written with an optional unit: 500MB, 10GiB, 1.5TB, 1048576.
// KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024. 0 means none.
type byteSizeFlag struct{ n int64 }

func (b *byteSizeFlag) String() string {
	if b.n == 0 {
		return "0"
	}
	return strconv.FormatInt(b.n, 10)
}

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (b *byteSizeFlag) Set(v string) error {
	num, mult := v, 1.0
	for _, u := range byteUnits {
		if s, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = strings.TrimSpace(s), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 || n*mult > 1<<62 {
		return fmt.Errorf("invalid size %q: want bytes with an optional unit (500MB, 10GiB)", v)
	}
	b.n = int64(n * mult)
	return nil
}
