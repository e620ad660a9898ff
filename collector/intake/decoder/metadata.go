package decoder

import (
	"github.com/hotpath-apm/hotpath/collector"
)

// decodeMetadataLine decodes the stream's first line into d.meta.
func (d *Decoder) decodeMetadataLine(line []byte) *Error {
	switch string(eventType(line)) {
	case "metadata":
	case "m":
		return &Error{Kind: ErrMetadata, Message: `decode error: RUM v3 streams ("m" metadata) are not supported`, Document: string(line)}
	default:
		return &Error{Kind: ErrMetadata, Message: `"metadata" or "m" required`, Document: string(line)}
	}
	d.s.reset(line)
	d.v.reset()
	d.metaLS.strs.reset()
	d.metaLS.nums.reset()
	d.metaLS.start(nil, nil)
	s := &d.s
	set := false
	if s.beginObject() {
		var key []byte
		for first := true; s.nextKey(&first, &key); {
			if string(key) == "metadata" {
				d.v.push("metadata")
				set = d.metadata() || set
				d.v.pop()
			} else {
				s.skip()
			}
			if s.err != nil {
				s.frame("v2.metadataRoot", key)
				break
			}
		}
		if s.err != nil && s.err.inKey {
			s.frame("v2.metadataRoot", nil)
		}
	}
	switch {
	case s.err != nil:
		return &Error{Kind: ErrDecode, Message: "decode error: data read error: " + s.err.message(), Document: string(line)}
	case !set:
		return &Error{Kind: ErrValidation, Message: "validation error: 'metadata' required", Document: string(line)}
	case d.v.failed():
		return &Error{Kind: ErrValidation, Message: d.v.message(), Document: string(line)}
	}
	if d.metaLS.own {
		// Metadata labels replace any the base event had (apm-data's GlobalLabelsFrom).
		d.meta.Labels, d.meta.NumericLabels = d.metaLS.result()
	}
	return nil
}

func (d *Decoder) metadata() bool {
	m := &d.meta
	s := &d.s
	var serviceSet bool
	set := d.object("v2.metadata", func(key []byte) bool {
		switch string(key) {
		case "labels":
			return d.labels(&d.metaLS, "labels", true)
		case "service":
			serviceSet = d.nested("service", d.metaService)
			return serviceSet
		case "cloud":
			return d.nested("cloud", d.metaCloud)
		case "system":
			return d.nested("system", d.metaSystem)
		case "user":
			return d.nested("user", func() bool { return d.user(&m.User, "v2.user") })
		case "network":
			return d.member("network", "v2.network", "connection", func() bool {
				return d.member("connection", "v2.networkConnection", "type", func() bool {
					return d.kw(&m.Network.ConnectionType, "type")
				})
			})
		case "process":
			return d.nested("process", d.metaProcess)
		}
		s.skip()
		return false
	})
	if set && !serviceSet && s.err == nil {
		d.v.required("service")
	}
	return set
}

func (d *Decoder) metaService() bool {
	m := &d.meta
	s := &d.s
	var agentSet, nameSet bool
	set := d.object("v2.metadataService", func(key []byte) bool {
		switch string(key) {
		case "agent":
			agentSet = d.nested("agent", d.metaAgent)
			return agentSet
		case "environment":
			return d.kw(&m.Service.Environment, "environment")
		case "framework":
			return d.nested("framework", func() bool {
				return d.nameVersion(&m.Service.Framework, "v2.metadataServiceFramework", false, false)
			})
		case "id":
			_, ok := s.str()
			return ok
		case "language":
			return d.nested("language", func() bool {
				return d.nameVersion(&m.Service.Language, "v2.metadataServiceLanguage", true, false)
			})
		case "name":
			nameSet = d.kw(&m.Service.Name, "name")
			if nameSet {
				switch {
				case m.Service.Name == "":
					d.v.fail("'name': validation rule 'minLength(1)' violated")
				case !alphaNumericExt(m.Service.Name):
					d.v.fail("'name': validation rule 'pattern(patternAlphaNumericExt)' violated")
				}
			}
			return nameSet
		case "node":
			return d.member("node", "v2.metadataServiceNode", "configured_name", func() bool {
				return d.kw(&m.Service.NodeName, "configured_name")
			})
		case "runtime":
			return d.nested("runtime", func() bool {
				return d.nameVersion(&m.Service.Runtime, "v2.metadataServiceRuntime", true, true)
			})
		case "version":
			return d.kw(&m.Service.Version, "version")
		}
		s.skip()
		return false
	})
	if set && s.err == nil {
		if !agentSet {
			d.v.required("agent")
		}
		if !nameSet {
			d.v.required("name")
		}
	}
	return set
}

func (d *Decoder) metaAgent() bool {
	a := &d.meta.Agent
	s := &d.s
	var nameSet, versionSet bool
	set := d.object("v2.metadataServiceAgent", func(key []byte) bool {
		switch string(key) {
		case "activation_method":
			return d.kw(&a.ActivationMethod, "activation_method")
		case "ephemeral_id":
			return d.kw(&a.EphemeralID, "ephemeral_id")
		case "name":
			nameSet = d.kw(&a.Name, "name")
			if nameSet && a.Name == "" {
				d.v.fail("'name': validation rule 'minLength(1)' violated")
			}
			return nameSet
		case "version":
			versionSet = d.kw(&a.Version, "version")
			return versionSet
		}
		s.skip()
		return false
	})
	if set && s.err == nil {
		if !nameSet {
			d.v.required("name")
		}
		if !versionSet {
			d.v.required("version")
		}
	}
	return set
}

// nameVersion decodes {name, version} keywords, with the required rules of the metadata's language
// (name) and runtime (both).
func (d *Decoder) nameVersion(nv *collector.NameVersion, typeName string, nameRequired, versionRequired bool) bool {
	s := &d.s
	var nameSet, versionSet bool
	set := d.object(typeName, func(key []byte) bool {
		switch string(key) {
		case "name":
			nameSet = d.kw(&nv.Name, "name")
			return nameSet
		case "version":
			versionSet = d.kw(&nv.Version, "version")
			return versionSet
		}
		s.skip()
		return false
	})
	if set && s.err == nil {
		if nameRequired && !nameSet {
			d.v.required("name")
		}
		if versionRequired && !versionSet {
			d.v.required("version")
		}
	}
	return set
}

// idName decodes an object of keyword fields named by keys into the matching dst.
func (d *Decoder) keywords(typeName string, keys []string, dst []*string) bool {
	s := &d.s
	return d.object(typeName, func(key []byte) bool {
		for i, k := range keys {
			if string(key) == k {
				return d.kw(dst[i], k)
			}
		}
		s.skip()
		return false
	})
}

func (d *Decoder) metaCloud() bool {
	c := &d.meta.Cloud
	s := &d.s
	var providerSet bool
	set := d.object("v2.metadataCloud", func(key []byte) bool {
		switch string(key) {
		case "account":
			return d.nested("account", func() bool {
				return d.keywords("v2.metadataCloudAccount", []string{"id", "name"}, []*string{&c.AccountID, &c.AccountName})
			})
		case "availability_zone":
			return d.kw(&c.AvailabilityZone, "availability_zone")
		case "instance":
			return d.nested("instance", func() bool {
				return d.keywords("v2.metadataCloudInstance", []string{"id", "name"}, []*string{&c.InstanceID, &c.InstanceName})
			})
		case "machine":
			return d.nested("machine", func() bool {
				return d.keywords("v2.metadataCloudMachine", []string{"type"}, []*string{&c.MachineType})
			})
		case "project":
			return d.nested("project", func() bool {
				return d.keywords("v2.metadataCloudProject", []string{"id", "name"}, []*string{&c.ProjectID, &c.ProjectName})
			})
		case "provider":
			providerSet = d.kw(&c.Provider, "provider")
			return providerSet
		case "region":
			return d.kw(&c.Region, "region")
		case "service":
			return d.nested("service", func() bool {
				return d.keywords("v2.metadataCloudService", []string{"name"}, []*string{&c.ServiceName})
			})
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !providerSet {
		d.v.required("provider")
	}
	return set
}

func (d *Decoder) metaSystem() bool {
	m := &d.meta
	s := &d.s
	var configured, detected, deprecated bool
	var deprecatedName string
	set := d.object("v2.metadataSystem", func(key []byte) bool {
		switch string(key) {
		case "architecture":
			return d.kw(&m.Host.Architecture, "architecture")
		case "configured_hostname":
			configured = d.kw(&m.Host.Name, "configured_hostname")
			return configured
		case "container":
			return d.nested("container", func() bool {
				return d.keywords("v2.metadataSystemContainer", []string{"id"}, []*string{&m.Container.ID})
			})
		case "detected_hostname":
			detected = d.kw(&m.Host.Hostname, "detected_hostname")
			return detected
		case "hostname":
			deprecated = d.kw(&deprecatedName, "hostname")
			return deprecated
		case "kubernetes":
			return d.nested("kubernetes", func() bool {
				k := &m.Kubernetes
				return d.object("v2.metadataSystemKubernetes", func(key []byte) bool {
					switch string(key) {
					case "namespace":
						return d.kw(&k.Namespace, "namespace")
					case "node":
						return d.nested("node", func() bool {
							return d.keywords("v2.metadataSystemKubernetesNode", []string{"name"}, []*string{&k.NodeName})
						})
					case "pod":
						return d.nested("pod", func() bool {
							return d.keywords("v2.metadataSystemKubernetesPod", []string{"name", "uid"}, []*string{&k.PodName, &k.PodUID})
						})
					}
					s.skip()
					return false
				})
			})
		case "platform":
			return d.kw(&m.Host.OS.Platform, "platform")
		case "host_id":
			return d.kw(&m.Host.ID, "host_id")
		}
		s.skip()
		return false
	})
	if !configured && !detected && deprecated {
		m.Host.Hostname = deprecatedName
	}
	return set
}

func (d *Decoder) metaProcess() bool {
	p := &d.meta.Process
	s := &d.s
	var pidSet bool
	set := d.object("v2.metadataProcess", func(key []byte) bool {
		switch string(key) {
		case "argv":
			argv, ok := d.strings(0, "argv")
			if ok {
				d.metaArgv = append(d.metaArgv[:0], argv...)
				p.Argv = d.metaArgv[:len(d.metaArgv):len(d.metaArgv)]
			}
			return ok
		case "title":
			return d.kw(&p.Title, "title")
		case "pid":
			v, ok := s.int()
			if ok {
				p.PID = int32(v)
				pidSet = true
			}
			return ok
		case "ppid":
			v, ok := s.int()
			if ok {
				p.PPID = int32(v)
			}
			return ok
		}
		s.skip()
		return false
	})
	if set && s.err == nil && !pidSet {
		d.v.required("pid")
	}
	return set
}

// user decodes a user object (metadata.user or context.user) into u, field by field.
func (d *Decoder) user(u *collector.User, typeName string) bool {
	s := &d.s
	return d.object(typeName, func(key []byte) bool {
		switch string(key) {
		case "domain":
			return d.kw(&u.Domain, "domain")
		case "id":
			return d.stringOrInt(&u.ID, "id", false)
		case "email":
			return d.kw(&u.Email, "email")
		case "username":
			return d.kw(&u.Name, "username")
		}
		s.skip()
		return false
	})
}

// stringOrInt reads a nullable.Interface field validated as inputTypes=string;int with maxLength 1024
// (user.id, exception code, url port), keeping a number as its text. port additionally requires a
// string to hold an integer (targetType=int).
func (d *Decoder) stringOrInt(dst *string, field string, port bool) bool {
	s := &d.s
	switch c := s.peek(); {
	case c == '"':
		v, _ := s.str()
		*dst = v
		if tooLong(v, 1024) {
			d.v.maxLength(field, 1024)
		} else if port && !isAtoi(v) {
			d.v.fail("'" + field + "': validation rule 'targetType(int)' violated")
		}
		return true
	case c == 'n':
		s.null()
		return false
	case isNumberStart(c):
		text, _ := s.looseNumber()
		if s.err != nil {
			return false
		}
		*dst = d.arena.str(text)
		if !isInt64(text) {
			d.v.fail("'" + field + "': validation rule 'inputTypes(string;int)' violated")
		}
		return true
	}
	// Any other JSON value decodes (nullable.Interface takes anything) but fails validation.
	s.skip()
	d.v.fail("'" + field + "': validation rule 'inputTypes(string;int)' violated ")
	return true
}

// isInt64 reports whether a JSON number's text is an integer that fits int64 (json.Number.Int64).
func isInt64(text []byte) bool {
	i := 0
	if i < len(text) && text[i] == '-' {
		i++
	}
	if len(text)-i > 19 {
		return false
	}
	for _, c := range text[i:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(text)-i == 19 {
		lim := "9223372036854775807"
		if text[0] == '-' {
			lim = "9223372036854775808"
		}
		return string(text[i:]) <= lim
	}
	return true
}

// isAtoi reports whether strconv.Atoi accepts s.
func isAtoi(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i == len(s) || len(s)-i > 19 {
		return false
	}
	for _, c := range []byte(s[i:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(s)-i == 19 {
		lim := "9223372036854775807"
		if s[0] == '-' {
			lim = "9223372036854775808"
		}
		return s[i:] <= lim
	}
	return true
}

// alphaNumericExt is apm-data's patternAlphaNumericExt, ^[a-zA-Z0-9 _-]+$.
func alphaNumericExt(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == ' ', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
