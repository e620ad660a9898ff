module github.com/hotpath-apm/hotpath/agent

go 1.26.0

require (
	go.elastic.co/apm/module/apmelasticsearch/v2 v2.7.12
	go.elastic.co/apm/module/apmhttp/v2 v2.7.12
	go.elastic.co/apm/module/apmzap/v2 v2.7.12
	go.elastic.co/apm/v2 v2.7.12
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
)

require (
	github.com/armon/go-radix v1.0.0 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/elastic/go-sysinfo v1.7.1 // indirect
	github.com/elastic/go-windows v1.0.0 // indirect
	github.com/google/go-cmp v0.5.4 // indirect
	github.com/joeshaw/multierror v0.0.0-20140124173710-69b34d4ec901 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/prometheus/procfs v0.0.0-20190425082905-87a4384529e0 // indirect
	github.com/stretchr/testify v1.8.4 // indirect
	go.elastic.co/fastjson v1.5.1 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sys v0.8.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
	howett.net/plist v0.0.0-20181124034731-591f970eefbb // indirect
)
