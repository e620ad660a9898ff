package profiling

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/hotpath-apm/hotpath/profiling/profileupload"
)

// service is what the upload's metadata says about the service.
type service struct {
	name, version, environment, node string
}

// serviceFromEnv reads the service from the Elastic agent's environment variables, with the agent's
// defaults: the executable's name, sanitized, when ELASTIC_APM_SERVICE_NAME is not set.
func serviceFromEnv() service {
	s := service{
		name:        os.Getenv("ELASTIC_APM_SERVICE_NAME"),
		version:     os.Getenv("ELASTIC_APM_SERVICE_VERSION"),
		environment: os.Getenv("ELASTIC_APM_ENVIRONMENT"),
		node:        os.Getenv("ELASTIC_APM_SERVICE_NODE_NAME"),
	}
	if s.name == "" {
		s.name = strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	}
	s.name = invalidServiceName.ReplaceAllString(s.name, "_")
	return s
}

// invalidServiceName matches what the Elastic agent replaces in service names.
var invalidServiceName = regexp.MustCompile("[^a-zA-Z0-9 _-]")

// agentVersion is the version of the Elastic Go agent module the program is built with: the profiles
// describe the same service as the agent's events.
func agentVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.elastic.co/apm/v2" {
				if d.Replace != nil {
					d = d.Replace
				}
				if d.Version != "" {
					return strings.TrimPrefix(d.Version, "v")
				}
			}
		}
	}
	return "unknown"
}

// metadataJSON returns the upload's metadata part: the intake v2 metadata object (what follows
// "metadata" in an /intake/v2/events stream), as the Elastic Go agent sends it with its profiles.
func metadataJSON(s service) ([]byte, error) {
	type name struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	type node struct {
		ConfiguredName string `json:"configured_name"`
	}
	hostname, _ := os.Hostname()
	md := struct {
		Service struct {
			Name        string `json:"name"`
			Version     string `json:"version,omitempty"`
			Environment string `json:"environment,omitempty"`
			Node        *node  `json:"node,omitempty"`
			Agent       name   `json:"agent"`
			Language    name   `json:"language"`
			Runtime     name   `json:"runtime"`
		} `json:"service"`
		Process struct {
			Pid   int    `json:"pid"`
			Ppid  int    `json:"ppid,omitempty"`
			Title string `json:"title,omitempty"`
		} `json:"process"`
		System struct {
			DetectedHostname   string `json:"detected_hostname,omitempty"`
			ConfiguredHostname string `json:"configured_hostname,omitempty"`
			Architecture       string `json:"architecture"`
			Platform           string `json:"platform"`
		} `json:"system"`
	}{}
	md.Service.Name = s.name
	md.Service.Version = s.version
	md.Service.Environment = s.environment
	if s.node != "" {
		md.Service.Node = &node{ConfiguredName: s.node}
	}
	md.Service.Agent = name{Name: "go", Version: agentVersion()}
	md.Service.Language = name{Name: "go", Version: runtime.Version()}
	md.Service.Runtime = name{Name: "gc", Version: runtime.Version()}
	md.Process.Pid = os.Getpid()
	md.Process.Ppid = os.Getppid()
	md.Process.Title = filepath.Base(os.Args[0])
	md.System.DetectedHostname = hostname
	md.System.ConfiguredHostname = os.Getenv("ELASTIC_APM_HOSTNAME")
	md.System.Architecture = runtime.GOARCH
	md.System.Platform = runtime.GOOS
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("profiling: encode metadata: %w", err)
	}
	if len(b) > profileupload.MaxMetadataSize {
		return nil, fmt.Errorf("profiling: metadata is %d bytes, more than the intake's %d", len(b), profileupload.MaxMetadataSize)
	}
	return b, nil
}
