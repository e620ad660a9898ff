package eventgen

// contextObjects are the objects of the contexts of transactions, errors and spans.
func contextObjects() []object {
	return []object{
		{
			Name: "context", Params: "ev *collector.Event, custom *[]collector.KeyValue", TypeName: `"v2.context"`,
			Doc: "decodes the context of a transaction or an error.",
			Members: []member{
				read("custom", "ok = d.keyValues(custom)"),
				read("tags", `ok = d.labels(&d.pool.ls, "tags", false)`),
				nested("service", "d.contextService(&d.coldW().svc)"),
				nested("cloud", "d.contextCloud()"),
				nested("user", "d.contextUser()"),
				nested("page", "d.contextPage()"),
				nested("request", "d.request(&d.coldW().request)"),
				nested("message", "d.message()"),
				nested("response", "d.response()"),
			},
		},
		{
			Name: "contextPage", TypeName: `"v2.contextPage"`,
			Doc:    "decodes context.page (RUM).",
			Before: "p := &d.coldW().page",
			Members: []member{
				text("referer", "p.referer").flag("p.refererSet"),
				text("url", "p.url").flag("p.urlSet"),
			},
		},
		{
			Name: "contextService", Params: "o *serviceOverride", TypeName: `"v2.contextService"`,
			Doc: "decodes the context.service of an event into o.",
			Members: []member{
				nested("agent", "d.contextServiceAgent(o)"),
				kw("environment", "o.environment").flag("o.envSet"),
				nested("framework", `d.nameVersionFlags(&o.framework, &o.frameworkSet, "v2.contextServiceFramework")`),
				read("id", "_, ok = s.str()"),
				nested("language", `d.nameVersionFlags(&o.language, &o.languageSet, "v2.contextServiceLanguage")`),
				read("name", "ok = d.serviceName(&o.name, false)").flag("o.nameSet"),
				nested("node", "d.contextServiceNode(o)"),
				nested("origin", "d.contextServiceOrigin(&o.origin)").flag("o.originSet"),
				nested("runtime", `d.nameVersionFlags(&o.runtime, &o.runtimeSet, "v2.contextServiceRuntime")`),
				nested("target", "d.contextServiceTarget(o)").flag("o.targetSet"),
				kw("version", "o.version"),
			},
			After: "o.set = set || o.set",
		},
		{
			Name: "contextServiceAgent", Params: "o *serviceOverride", TypeName: `"v2.contextServiceAgent"`,
			Doc: "decodes context.service.agent into o.",
			Members: []member{
				kw("ephemeral_id", "o.agentEphID").flag("o.agentEphSet"),
				kw("name", "o.agentName").flag("o.agentNameSet"),
				kw("version", "o.agentVersion").flag("o.agentVerSet"),
			},
		},
		{
			Name: "contextServiceNode", Params: "o *serviceOverride", TypeName: `"v2.contextServiceNode"`,
			Doc: "decodes context.service.node into o.",
			Members: []member{
				kw("configured_name", "o.nodeName").flag("o.nodeSet"),
			},
		},
		{
			Name: "contextServiceOrigin", Params: "o *collector.ServiceOrigin", TypeName: `"v2.contextServiceOrigin"`,
			Doc: "decodes context.service.origin into o.",
			Members: []member{
				text("id", "o.ID"),
				text("name", "o.Name"),
				text("version", "o.Version"),
			},
		},
		{
			Name: "contextServiceTarget", Params: "o *serviceOverride", TypeName: `"v2.contextServiceTarget"`,
			Doc: "decodes context.service.target into o.",
			Members: []member{
				text("name", "o.target.Name"),
				text("type", "o.target.Type").flag("o.targetTypeSet"),
			},
		},
		{
			Name: "nameVersionFlags", Params: "nv *collector.NameVersion, given *[2]bool, typeName string", TypeName: "typeName",
			Doc: "decodes a {name, version} of context.service into nv; given records which of the two were given.",
			Members: []member{
				kw("name", "nv.Name").flag("given[0]"),
				kw("version", "nv.Version").flag("given[1]"),
			},
		},
		{
			Name: "contextCloud", TypeName: `"v2.contextCloud"`,
			Doc:    "decodes context.cloud, of which only the origin is kept.",
			Before: "c := d.coldW()",
			Members: []member{
				nested("origin", "d.contextCloudOrigin(&c.cloudOrigin)").flag("c.cloudSet"),
			},
		},
		{
			Name: "contextCloudOrigin", Params: "o *collector.CloudOrigin", TypeName: `"v2.contextCloudOrigin"`,
			Doc: "decodes context.cloud.origin into o.",
			Members: []member{
				nested("account", "d.contextCloudOriginAccount(o)"),
				text("provider", "o.Provider"),
				text("region", "o.Region"),
				nested("service", "d.contextCloudOriginService(o)"),
			},
		},
		{
			Name: "contextCloudOriginAccount", Params: "o *collector.CloudOrigin", TypeName: `"v2.contextCloudOriginAccount"`,
			Doc:     "decodes context.cloud.origin.account into o.",
			Members: []member{text("id", "o.AccountID")},
		},
		{
			Name: "contextCloudOriginService", Params: "o *collector.CloudOrigin", TypeName: `"v2.contextCloudOriginService"`,
			Doc:     "decodes context.cloud.origin.service into o.",
			Members: []member{text("name", "o.ServiceName")},
		},
		{
			Name: "request", Params: "r *requestContext", TypeName: `"v2.contextRequest"`,
			Doc: "decodes the context.request of a transaction or an error into r.",
			Members: []member{
				keyValues("cookies", "r.req.Cookies"),
				keyValues("env", "r.req.Env"),
				read("body", "ok = d.requestBody(&r.req.Body)"),
				readAs("headers", "[]collector.Header", "d.headers()", "r.headers, r.headersSet, r.req.Headers = v, true, v"),
				nested("url", "d.requestURL(&r.url)").flag("r.urlSet"),
				kw("http_version", "r.version").flag("r.versionSet"),
				kw("method", "r.req.Method").flag("methodSet"),
				nested("socket", "d.requestSocket(r)"),
			},
			Rules: required("method"),
			After: "r.set = set || r.set",
		},
		{
			Name: "requestSocket", Params: "r *requestContext", TypeName: `"v2.contextRequestSocket"`,
			Doc: "decodes context.request.socket into r.",
			Members: []member{
				text("remote_address", "r.socketAddr"),
				read("encrypted", "_, ok = s.bool()"),
			},
		},
		{
			Name: "requestURL", Params: "u *collector.URL", TypeName: `"v2.contextRequestURL"`,
			Doc: "decodes context.request.url into u.",
			Members: []member{
				read("port", "ok = d.port(u)"),
				kw("full", "u.Full"),
				kw("hash", "u.Fragment"),
				kw("hostname", "u.Domain"),
				kw("pathname", "u.Path"),
				read("protocol", "ok = d.protocol(u)"),
				kw("raw", "u.Original"),
				kw("search", "u.Query"),
			},
		},
		{
			Name: "message", TypeName: `"v2.contextMessage"`,
			Doc: "decodes the context.message of a transaction or span.",
			Before: `c := d.coldW()
				m := &c.message`,
			Members: []member{
				readAs("headers", "[]collector.Header", "d.headers()", "m.Headers = v"),
				text("body", "m.Body"),
				nested("queue", "d.messageQueue(m)"),
				text("routing_key", "m.RoutingKey"),
				nested("age", "d.messageAge(m)"),
			},
			After: "c.messageSet = set || c.messageSet",
		},
		{
			Name: "messageQueue", Params: "m *collector.Message", TypeName: `"v2.contextMessageQueue"`,
			Doc:     "decodes context.message.queue into m.",
			Members: []member{kw("name", "m.QueueName")},
		},
		{
			Name: "messageAge", Params: "m *collector.Message", TypeName: `"v2.contextMessageAge"`,
			Doc:     "decodes context.message.age into m.",
			Members: []member{optInt("ms", "m.AgeMillis")},
		},
		{
			Name: "user", Params: "u *collector.User", TypeName: `"v2.user"`,
			Doc: "decodes a user object (metadata.user or context.user) into u, field by field.",
			Members: []member{
				kw("domain", "u.Domain"),
				read("id", `ok = d.stringOrInt(&u.ID, "id", false)`),
				kw("email", "u.Email"),
				kw("username", "u.Name"),
			},
		},
	}
}

// metadataObjects are the objects of the stream's metadata line. Its required members are given by
// their last value, as apm-data's metadata reads them: a later null unsets them.
func metadataObjects() []object {
	return []object{
		{
			Name: "metadata", TypeName: `"v2.metadata"`,
			Doc:    "decodes the stream's metadata into d.meta.",
			Before: "m := &d.meta",
			Members: []member{
				read("labels", `ok = d.labels(&d.metaLS, "labels", true)`),
				nested("service", "d.metaService()").last("serviceSet"),
				nested("cloud", "d.metaCloud()"),
				nested("system", "d.metaSystem()"),
				nested("user", "d.user(&m.User)"),
				nested("network", "d.metaNetwork()"),
				nested("process", "d.metaProcess()"),
			},
			Rules: required("service"),
		},
		{
			Name: "metaService", TypeName: `"v2.metadataService"`,
			Doc:    "decodes metadata.service.",
			Before: "m := &d.meta",
			Members: []member{
				nested("agent", "d.metaAgent()").last("agentSet"),
				kw("environment", "m.Service.Environment"),
				nested("framework", `d.nameVersion(&m.Service.Framework, "v2.metadataServiceFramework", false, false)`),
				read("id", "_, ok = s.str()"),
				nested("language", `d.nameVersion(&m.Service.Language, "v2.metadataServiceLanguage", true, false)`),
				read("name", "ok = d.serviceName(&m.Service.Name, true)").last("nameSet"),
				nested("node", "d.metaServiceNode()"),
				nested("runtime", `d.nameVersion(&m.Service.Runtime, "v2.metadataServiceRuntime", true, true)`),
				kw("version", "m.Service.Version"),
			},
			Rules: required("agent", "name"),
		},
		{
			Name: "metaServiceNode", TypeName: `"v2.metadataServiceNode"`,
			Doc:     "decodes metadata.service.node.",
			Members: []member{kw("configured_name", "d.meta.Service.NodeName")},
		},
		{
			Name: "metaAgent", TypeName: `"v2.metadataServiceAgent"`,
			Doc:    "decodes metadata.service.agent.",
			Before: "a := &d.meta.Agent",
			Members: []member{
				kw("activation_method", "a.ActivationMethod"),
				kw("ephemeral_id", "a.EphemeralID"),
				read("name", `ok = d.kwMin1(&a.Name, "name")`).last("nameSet"),
				kw("version", "a.Version").last("versionSet"),
			},
			Rules: required("name", "version"),
		},
		{
			Name: "nameVersion", Params: "nv *collector.NameVersion, typeName string, nameRequired, versionRequired bool", TypeName: "typeName",
			Doc: `decodes {name, version} keywords, with the required rules of the metadata's language
				// (name) and runtime (both).`,
			Members: []member{
				kw("name", "nv.Name").last("nameSet"),
				kw("version", "nv.Version").last("versionSet"),
			},
			Rules: []rule{
				{Cond: "nameRequired && !nameSet", Msg: "'name' required"},
				{Cond: "versionRequired && !versionSet", Msg: "'version' required"},
			},
		},
		{
			Name: "metaCloud", TypeName: `"v2.metadataCloud"`,
			Doc:    "decodes metadata.cloud.",
			Before: "c := &d.meta.Cloud",
			Members: []member{
				nested("account", "d.metaCloudAccount(c)"),
				kw("availability_zone", "c.AvailabilityZone"),
				nested("instance", "d.metaCloudInstance(c)"),
				nested("machine", "d.metaCloudMachine(c)"),
				nested("project", "d.metaCloudProject(c)"),
				kw("provider", "c.Provider").last("providerSet"),
				kw("region", "c.Region"),
				nested("service", "d.metaCloudService(c)"),
			},
			Rules: required("provider"),
		},
		{
			Name: "metaCloudAccount", Params: "c *collector.Cloud", TypeName: `"v2.metadataCloudAccount"`,
			Doc:     "decodes metadata.cloud.account into c.",
			Members: []member{kw("id", "c.AccountID"), kw("name", "c.AccountName")},
		},
		{
			Name: "metaCloudInstance", Params: "c *collector.Cloud", TypeName: `"v2.metadataCloudInstance"`,
			Doc:     "decodes metadata.cloud.instance into c.",
			Members: []member{kw("id", "c.InstanceID"), kw("name", "c.InstanceName")},
		},
		{
			Name: "metaCloudMachine", Params: "c *collector.Cloud", TypeName: `"v2.metadataCloudMachine"`,
			Doc:     "decodes metadata.cloud.machine into c.",
			Members: []member{kw("type", "c.MachineType")},
		},
		{
			Name: "metaCloudProject", Params: "c *collector.Cloud", TypeName: `"v2.metadataCloudProject"`,
			Doc:     "decodes metadata.cloud.project into c.",
			Members: []member{kw("id", "c.ProjectID"), kw("name", "c.ProjectName")},
		},
		{
			Name: "metaCloudService", Params: "c *collector.Cloud", TypeName: `"v2.metadataCloudService"`,
			Doc:     "decodes metadata.cloud.service into c.",
			Members: []member{kw("name", "c.ServiceName")},
		},
		{
			Name: "metaSystem", TypeName: `"v2.metadataSystem"`,
			Doc: "decodes metadata.system; the deprecated hostname is the host's when neither of the others is given.",
			Before: `m := &d.meta
				var deprecatedName string`,
			Members: []member{
				kw("architecture", "m.Host.Architecture"),
				kw("configured_hostname", "m.Host.Name").last("configured"),
				nested("container", "d.metaContainer()"),
				kw("detected_hostname", "m.Host.Hostname").last("detected"),
				kw("hostname", "deprecatedName").last("deprecated"),
				nested("kubernetes", "d.metaKubernetes()"),
				kw("platform", "m.Host.OS.Platform"),
				kw("host_id", "m.Host.ID"),
			},
			After: `if !configured && !detected && deprecated {
				m.Host.Hostname = deprecatedName
			}`,
		},
		{
			Name: "metaContainer", TypeName: `"v2.metadataSystemContainer"`,
			Doc:     "decodes metadata.system.container.",
			Members: []member{kw("id", "d.meta.Container.ID")},
		},
		{
			Name: "metaKubernetes", TypeName: `"v2.metadataSystemKubernetes"`,
			Doc:    "decodes metadata.system.kubernetes.",
			Before: "k := &d.meta.Kubernetes",
			Members: []member{
				kw("namespace", "k.Namespace"),
				nested("node", "d.metaKubernetesNode(k)"),
				nested("pod", "d.metaKubernetesPod(k)"),
			},
		},
		{
			Name: "metaKubernetesNode", Params: "k *collector.Kubernetes", TypeName: `"v2.metadataSystemKubernetesNode"`,
			Doc:     "decodes metadata.system.kubernetes.node into k.",
			Members: []member{kw("name", "k.NodeName")},
		},
		{
			Name: "metaKubernetesPod", Params: "k *collector.Kubernetes", TypeName: `"v2.metadataSystemKubernetesPod"`,
			Doc:     "decodes metadata.system.kubernetes.pod into k.",
			Members: []member{kw("name", "k.PodName"), kw("uid", "k.PodUID")},
		},
		{
			Name: "metaNetwork", TypeName: `"v2.network"`,
			Doc:     "decodes metadata.network, of which only the connection type is kept.",
			Members: []member{nested("connection", "d.metaNetworkConnection()")},
		},
		{
			Name: "metaNetworkConnection", TypeName: `"v2.networkConnection"`,
			Doc:     "decodes metadata.network.connection.",
			Members: []member{kw("type", "d.meta.Network.ConnectionType")},
		},
		{
			Name: "metaProcess", TypeName: `"v2.metadataProcess"`,
			Doc:    "decodes metadata.process.",
			Before: "p := &d.meta.Process",
			Members: []member{
				readAs("argv", "[]string", `d.strings(0, "argv")`, `d.metaArgv = append(d.metaArgv[:0], v...)
					p.Argv = d.metaArgv[:len(d.metaArgv):len(d.metaArgv)]`),
				kw("title", "p.Title"),
				intAs("pid", "p.PID = int32(v)").flag("pidSet"),
				intAs("ppid", "p.PPID = int32(v)"),
			},
			Rules: required("pid"),
		},
	}
}
