package eventgen

// schema is the table of the objects eventgen writes decoders for: per object, its members (the key, the
// statement reading its value, the flag recording that it was given) and its rules. It follows apm-data's
// model (model/modeldecoder/v2): the struct names are its, as decode errors name them, and so are the
// rules. A member whose value takes more than a statement is read by a method of the decoder package.
func schema() []object {
	objs := []object{
		{
			Name: "transaction", Params: "ev *collector.Event", TypeName: "typeTransaction",
			Doc: `decodes the value of a "transaction" line into ev.`,
			Before: `e := &d.ev
				if ev.Transaction == nil {
					ev.Transaction = d.pool.tx.one()
				}
				tx := ev.Transaction`,
			Members: append(shared("tx.ID", traceable...),
				kw("name", "tx.Name"),
				kw("type", "tx.Type").flag("typeSet"),
				kw("result", "tx.Result"),
				nested("span_count", "d.spanCount(&tx.SpanCount)").flag("spanCountSet"),
				read("sampled", "e.sampled, ok = s.bool()").flag("e.sampledSet"),
				nested("context", "d.context(ev, &tx.Custom)"),
				nested("marks", "d.marks(&tx.Marks)"),
				nested("experience", "d.experience(tx)"),
				nested("session", "d.session(&ev.Session)"),
				nested("faas", "d.faas(&ev.Faas)"),
				read("dropped_spans_stats", "ok = d.droppedSpans(&tx.DroppedSpansStats)"),
			),
			Rules: required("trace_id", "id", "type", "span_count", "duration"),
		},
		{
			Name: "span", Params: "ev *collector.Event", TypeName: "typeSpan",
			Doc: `decodes the value of a "span" line into ev.`,
			Before: `e := &d.ev
				if ev.Span == nil {
					ev.Span = d.pool.span.one()
				}
				sp := ev.Span`,
			Members: append(shared("sp.ID", append([]string{"transaction_id"}, traceable...)...),
				kw("name", "sp.Name").flag("nameSet"),
				kw("type", "e.typ").flag("e.typSet"),
				kw("subtype", "e.subtype").flag("e.subtypeSet"),
				kw("action", "e.action").flag("e.actionSet"),
				read("start", "ok = d.start()").flag("e.startSet"),
				optBool("sync", "sp.Sync"),
				read("stacktrace", "sp.Stacktrace, ok = d.stacktrace()"),
				read("child_ids", `ev.ChildIDs, ok = d.strings(1024, "child_ids")`),
				nested("composite", "d.composite(sp)"),
				nested("context", "d.spanContext(sp)"),
			),
			Rules: append([]rule{{Cond: "!e.startSet && !e.tsSet", Msg: "requires at least one of the fields 'start;timestamp'"}},
				required("id", "trace_id", "name", "parent_id", "type", "duration")...),
		},
		{
			Name: "errorEvent", Params: "ev *collector.Event", TypeName: "typeError",
			Doc: `decodes the value of an "error" line into ev.`,
			Before: `e := &d.ev
				if ev.Error == nil {
					ev.Error = d.pool.errs.one()
				}
				er := ev.Error`,
			Members: append(shared("er.ID", "transaction_id"),
				kw("culprit", "er.Culprit"),
				nested("log", "d.errorLog(er)").flag("logSet"),
				nested("exception", "d.errorException(er)").flag("excSet"),
				nested("transaction", "d.errorTransactionRef()").flag("e.txRefSet"),
				nested("context", "d.context(ev, &er.Custom)"),
			),
			Rules: []rule{
				{Cond: "!excSet && !logSet", Msg: "requires at least one of the fields 'exception;log'"},
				{Required: "id"},
				{Cond: "!parentSet && e.txIDSet", Msg: "'parent_id' required when 'transaction_id' is set"},
				{Cond: "!parentSet && traceIDSet", Msg: "'parent_id' required when 'trace_id' is set"},
				{Cond: "!traceIDSet && e.txIDSet", Msg: "'trace_id' required when 'transaction_id' is set"},
				{Cond: "!traceIDSet && parentSet", Msg: "'trace_id' required when 'parent_id' is set"},
			},
		},
		{
			Name: "metricset", Params: "ev *collector.Event", TypeName: "typeMetricset",
			Doc: `decodes the value of a "metricset" line into ev.`,
			Before: `e := &d.ev
				if ev.Metricset == nil {
					ev.Metricset = d.pool.ms.one()
				}
				ms := ev.Metricset`,
			Members: []member{
				read("timestamp", `ok = d.timestamp("timestamp")`),
				read("samples", "ok = d.samples(ms)").flag("samplesSet"),
				nested("span", "d.metricsetSpanRef()").flag("e.msSpanSet"),
				read("tags", `ok = d.labels(&d.pool.ls, "tags", false)`),
				nested("transaction", "d.metricsetTransactionRef()").flag("e.msTxSet"),
				nested("service", "d.metricsetServiceRef()"),
				nested("faas", "d.faas(&ev.Faas)"),
			},
			Rules: required("samples"),
		},
		{
			Name: "logEvent", Params: "ev *collector.Event", TypeName: "typeLog",
			Doc: `decodes the value of a "log" line into ev.`,
			Before: `f := &d.logf
				*f = logFields{}`,
			Members: []member{
				read("labels", `ok = d.labels(&d.pool.ls, "labels", false)`),
				read("@timestamp", `ok = d.timestamp("@timestamp")`),
				kw("trace.id", "f.traceID").flag("f.traceSet"),
				kw("transaction.id", "f.txID").flag("f.txSet"),
				kw("span.id", "f.spanID").flag("f.spanSet"),
				text("message", "f.message").flag("f.messageSet"),
				nested("faas", "d.faas(&ev.Faas)"),
			},
			Default: "ok = d.logECS(f, key)",
			After:   "d.checkLogFields(f)",
		},
	}
	objs = append(objs, eventObjects()...)
	objs = append(objs, contextObjects()...)
	return append(objs, metadataObjects()...)
}

// logFields are the ECS fields of log events, by their flat keys, which also name the objects of their
// nested form: "log.level" is also {"log": {"level": ...}} (apm-data's processNestedSource). Keywords
// are limited to 1024 characters; Into is the event's field a value goes straight into.
func logFields() []ecsField {
	return []ecsField{
		{Key: "service.name", Field: "serviceName", Keyword: true, Into: "ev.Service.Name"},
		{Key: "service.version", Field: "serviceVersion", Keyword: true, Into: "ev.Service.Version"},
		{Key: "service.environment", Field: "serviceEnv", Keyword: true, Into: "ev.Service.Environment"},
		{Key: "service.node.name", Field: "serviceNode", Keyword: true, Into: "ev.Service.NodeName"},
		{Key: "error.type", Field: "errorType"},
		{Key: "error.message", Field: "errorMessage"},
		{Key: "error.stack_trace", Field: "errorStack"},
		{Key: "event.dataset", Field: "eventDataset", Keyword: true, Into: "ev.Event.Dataset"},
		{Key: "process.thread.name", Field: "threadName", Keyword: true, Into: "ev.Process.ThreadName"},
		{Key: "log.level", Field: "level", Keyword: true},
		{Key: "log.logger", Field: "logger", Keyword: true},
		{Key: "log.origin.file.name", Field: "fileName", Keyword: true},
		{Key: "log.origin.function", Field: "function"},
		{Key: "log.origin.file.line", Line: true},
	}
}

// traceable are the members transactions and spans share beyond ids and timestamp.
var traceable = []string{"duration", "outcome", "sample_rate", "links", "otel"}

// shared returns the members transaction, span and error lines share: the ids (the line's own read into
// id), the timestamp, and the optional members has names.
func shared(id string, has ...string) []member {
	ms := []member{
		kw("id", id).flag("idSet"),
		kw("trace_id", "ev.TraceID").flag("traceIDSet"),
		kw("parent_id", "ev.ParentID").flag("parentSet"),
	}
	optional := map[string]member{
		"transaction_id": kw("transaction_id", "e.txID").flag("e.txIDSet"),
		"duration":       read("duration", "ok = d.duration()").flag("e.durationSet"),
		"outcome":        read("outcome", "ok = d.enumOutcome(&e.outcome)").flag("e.outcomeSet"),
		"sample_rate":    read("sample_rate", "e.sampleRate, ok = s.float()").flag("e.rateSet"),
		"links":          read("links", "ok = d.links()"),
		"otel":           nested("otel", "d.otel()"),
	}
	if has[0] == "transaction_id" {
		ms = append(ms, optional["transaction_id"])
		has = has[1:]
	}
	ms = append(ms, read("timestamp", `ok = d.timestamp("timestamp")`))
	for _, k := range has {
		ms = append(ms, optional[k])
	}
	return ms
}

// eventObjects are the objects nested in transaction, span, error and metricset lines, but for their
// contexts' (contextObjects).
func eventObjects() []object {
	return []object{
		{
			Name: "frame", Params: "f *collector.StackFrame", TypeName: `"v2.stacktraceFrame"`,
			Doc: "decodes a stack frame into f; it needs a classname or a filename.",
			Members: []member{
				text("abs_path", "f.AbsPath"),
				text("filename", "f.Filename").flag("fileSet"),
				text("classname", "f.Classname").flag("classSet"),
				text("context_line", "f.ContextLine"),
				text("function", "f.Function"),
				text("module", "f.Module"),
				intAs("lineno", "f.Lineno = collector.Some(int32(uint32(v)))"),
				intAs("colno", "f.Colno = collector.Some(int32(uint32(v)))"),
				readAs("library_frame", "bool", "s.bool()", "f.LibraryFrame = v"),
				keyValues("vars", "f.Vars"),
				read("pre_context", `f.PreContext, ok = d.strings(0, "")`),
				read("post_context", `f.PostContext, ok = d.strings(0, "")`),
			},
			Rules: []rule{{Cond: "!classSet && !fileSet", Msg: "requires at least one of the fields 'classname;filename'"}},
		},
		{
			Name: "errorLog", Params: "er *collector.Error", TypeName: `"v2.errorLog"`,
			Doc:    "decodes an error's log into er.Log (its level is error unless given).",
			Before: "l := d.pool.errlog.one()",
			Members: []member{
				kw("level", "l.Level").flag("levelSet"),
				kw("logger_name", "l.LoggerName"),
				text("message", "l.Message").flag("messageSet"),
				kw("param_message", "l.ParamMessage"),
				read("stacktrace", "l.Stacktrace, ok = d.stacktrace()"),
			},
			Rules: required("message"),
			After: `if set {
				if !levelSet {
					l.Level = "error"
				}
				er.Log = l
			}`,
		},
		{
			Name: "exception", Params: "x *collector.Exception", TypeName: `"v2.errorException"`,
			Doc: "decodes an exception and, recursively, its causes into x.",
			Members: []member{
				keyValues("attributes", "x.Attributes"),
				read("code", `ok = d.stringOrInt(&x.Code, "code", false)`),
				read("cause", "ok = d.causes(x)"),
				read("stacktrace", "x.Stacktrace, ok = d.stacktrace()"),
				text("message", "x.Message").flag("messageSet"),
				kw("module", "x.Module"),
				kw("type", "x.Type").flag("typeSet"),
				optBool("handled", "x.Handled"),
			},
			Rules: []rule{{Cond: "!messageSet && !typeSet", Msg: "requires at least one of the fields 'message;type'"}},
		},
		{
			Name: "errorTransactionRef", TypeName: `"v2.errorTransactionRef"`,
			Doc:    "decodes the transaction an error names.",
			Before: "e := &d.ev",
			Members: []member{
				kw("name", "e.txName").flag("e.txNameSet"),
				kw("type", "e.txType").flag("e.txTypeSet"),
				readAs("sampled", "bool", "s.bool()", "e.txSampled, e.txSampSet = v, true"),
			},
		},
		{
			Name: "spanCount", Params: "sc *collector.SpanCount", TypeName: `"v2.transactionSpanCount"`,
			Doc: "decodes a transaction's span_count into sc.",
			Members: []member{
				intAs("dropped", "sc.Dropped = collector.Some(int32(v))"),
				intAs("started", "sc.Started = collector.Some(int32(v))").flag("startedSet"),
			},
			Rules: required("started"),
		},
		{
			Name: "experience", Params: "tx *collector.Transaction", TypeName: `"v2.transactionUserExperience"`,
			Doc:    "decodes a transaction's user experience (RUM) into tx.Experience.",
			Before: "ux := d.pool.ux.one()",
			Members: []member{
				read("cls", `ok = d.optFloatMin0(&ux.CLS, "cls")`),
				read("fid", `ok = d.optFloatMin0(&ux.FID, "fid")`),
				read("tbt", `ok = d.optFloatMin0(&ux.TBT, "tbt")`),
				nested("longtask", "d.longtask(ux)"),
			},
			After: `if set {
				tx.Experience = ux
			}`,
		},
		{
			Name: "longtask", Params: "ux *collector.UserExperience", TypeName: `"v2.longtaskMetrics"`,
			Doc:    "decodes the long task metrics of a user experience into ux.LongTask.",
			Before: "lt := d.pool.longtask.one()",
			Members: []member{
				readAs("count", "int64", `d.intMin("count", 0)`, "lt.Count = v").flag("countSet"),
				readAs("max", "float64", `d.floatMin0("max")`, "lt.Max = v").flag("maxSet"),
				readAs("sum", "float64", `d.floatMin0("sum")`, "lt.Sum = v").flag("sumSet"),
			},
			Rules: required("count", "max", "sum"),
			After: `if set {
				ux.LongTask = lt
			}`,
		},
		{
			Name: "session", Params: "sess *collector.Session", TypeName: `"v2.transactionSession"`,
			Doc: "decodes a transaction's session (RUM) into sess.",
			Members: []member{
				kw("id", "sess.ID").flag("idSet"),
				readAs("sequence", "int64", `d.intMin("sequence", 1)`, "sess.Sequence = v"),
			},
			Rules: required("id"),
		},
		{
			Name: "faas", Params: "f *collector.Faas", TypeName: `"v2.faas"`,
			Doc: "decodes the function-as-a-service fields of a transaction, metricset or log into f.",
			Members: []member{
				text("id", "f.ID"),
				text("execution", "f.Execution"),
				nested("trigger", "d.faasTrigger(f)"),
				text("name", "f.Name"),
				text("version", "f.Version"),
				optBool("coldstart", "f.ColdStart"),
			},
		},
		{
			Name: "faasTrigger", Params: "f *collector.Faas", TypeName: `"v2.trigger"`,
			Doc: "decodes faas.trigger into f.",
			Members: []member{
				text("type", "f.TriggerType"),
				text("request_id", "f.TriggerRequestID"),
			},
		},
		{
			Name: "droppedSpanStats", Params: "st *collector.DroppedSpanStats", TypeName: `"v2.transactionDroppedSpanStats"`,
			Doc: "decodes an element of a transaction's dropped_spans_stats into st.",
			Members: []member{
				kw("destination_service_resource", "st.DestinationServiceResource"),
				read("service_target_type", `ok = d.kwN(&st.ServiceTargetType, "service_target_type", 512)`),
				read("service_target_name", `ok = d.kwN(&st.ServiceTargetName, "service_target_name", 512)`),
				read("outcome", "ok = d.enumOutcome(&st.Outcome)"),
				nested("duration", "d.droppedSpansDuration(st)"),
			},
		},
		{
			Name: "droppedSpansDuration", Params: "st *collector.DroppedSpanStats", TypeName: `"v2.transactionDroppedSpansDuration"`,
			Doc: "decodes the duration of dropped spans into st.",
			Members: []member{
				readAs("count", "int64", `d.intMin("count", 1)`, "st.Count = v"),
				nested("sum", "d.droppedSpansSum(st)"),
			},
		},
		{
			Name: "droppedSpansSum", Params: "st *collector.DroppedSpanStats", TypeName: `"v2.transactionDroppedSpansDurationSum"`,
			Doc: "decodes the summed duration of dropped spans into st.",
			Members: []member{
				readAs("us", "int64", `d.intMin("us", 0)`, "st.SumMicros = v"),
			},
		},
		{
			Name: "composite", Params: "sp *collector.Span", TypeName: `"v2.spanComposite"`,
			Doc:    "decodes the composite of a compressed span into sp.Composite.",
			Before: "c := d.pool.composite.one()",
			Members: []member{
				text("compression_strategy", "c.CompressionStrategy").flag("strategySet"),
				readAs("count", "int64", `d.intMin("count", 2)`, "c.Count = int32(v)").flag("countSet"),
				readAs("sum", "float64", `d.floatMin0("sum")`, "c.SumMillis = v").flag("sumSet"),
			},
			Rules: required("compression_strategy", "count", "sum"),
			After: `if set {
				c.CompressionStrategy = compressionStrategy(c.CompressionStrategy)
				sp.Composite = c
			}`,
		},
		{
			Name: "spanContext", Params: "sp *collector.Span", TypeName: `"v2.spanContext"`,
			Doc: "decodes the context of a span.",
			Members: []member{
				read("tags", `ok = d.labels(&d.pool.ls, "tags", false)`),
				nested("service", "d.contextService(&d.coldW().svc)"),
				nested("message", "d.message()"),
				nested("db", "d.db(sp)"),
				nested("destination", "d.destination()"),
				nested("http", "d.spanContextHTTP()"),
			},
		},
		{
			Name: "db", Params: "sp *collector.Span", TypeName: `"v2.spanContextDatabase"`,
			Doc:    "decodes a span's context.db into sp.DB.",
			Before: "db := d.pool.db.one()",
			Members: []member{
				text("instance", "db.Instance"),
				kw("link", "db.Link"),
				text("statement", "db.Statement"),
				text("type", "db.Type"),
				text("user", "db.UserName"),
				intAs("rows_affected", "db.RowsAffected = collector.Some(int64(uint32(v)))"),
			},
			After: `if set {
				sp.DB = db
			}`,
		},
		{
			Name: "destination", TypeName: `"v2.spanContextDestination"`,
			Doc:    "decodes a span's context.destination.",
			Before: "c := d.coldW()",
			Members: []member{
				nested("service", "d.destinationService(c)"),
				kw("address", "c.destAddress").flag("c.destAddressSet"),
				intAs("port", "c.destPort, c.destPortSet = v, true"),
			},
		},
		{
			Name: "destinationService", Params: "c *evCold", TypeName: `"v2.spanContextDestinationService"`,
			Doc:    "decodes a span's context.destination.service.",
			Before: "ds := d.pool.destsvc.one()",
			Members: []member{
				kw("name", "ds.Name"),
				kw("resource", "ds.Resource").flag("resourceSet"),
				kw("type", "ds.Type"),
			},
			Rules: required("resource"),
			After: `if set {
				c.destSvc = ds
				c.destResource, c.destResourceSet = ds.Resource, resourceSet
			}`,
		},
		{
			Name: "spanContextHTTP", TypeName: `"v2.spanContextHTTP"`,
			Doc:    "decodes a span's context.http.",
			Before: "h := &d.coldW().spanHTTP",
			Members: []member{
				nested("request", "d.spanHTTPRequest(h)").flag("h.requestSet"),
				kw("method", "h.method").flag("h.methodSet"),
				text("url", "h.url").flag("h.urlSet"),
				read("response", "ok = d.spanHTTPResponse(h)"),
				intAs("status_code", "h.statusCode, h.statusSet = v, true"),
			},
		},
		{
			Name: "spanHTTPRequest", Params: "h *spanHTTP", TypeName: `"v2.spanContextHTTPRequest"`,
			Doc: "decodes a span's context.http.request.",
			Members: []member{
				read("body", "ok = d.spanHTTPBody(h)"),
				text("id", "h.reqID").flag("h.reqIDSet"),
			},
		},
		{
			Name: "httpResponse", Params: "typeName string, r *collector.HTTPResponse, statusSet *bool", TypeName: "typeName",
			Doc: `decodes an HTTP response object into r (typeName is apm-data's struct): a transaction's
				// or an error's context.response, with finished and headers_sent, and *statusSet set when it has a
				// status code; or, with statusSet nil, a span's context.http.response, which has neither.`,
			Members: []member{
				readAs("headers", "[]collector.Header", "d.headers()", "r.Headers = v"),
				intAs("status_code", `r.StatusCode = int32(v)
					if statusSet != nil {
						*statusSet = true
					}`),
				optInt("transfer_size", "r.TransferSize"),
				optInt("decoded_body_size", "r.DecodedBodySize"),
				optInt("encoded_body_size", "r.EncodedBodySize"),
				read("finished", "ok = d.responseFlag(&r.Finished, statusSet != nil)"),
				read("headers_sent", "ok = d.responseFlag(&r.HeadersSent, statusSet != nil)"),
			},
		},
		{
			Name: "spanLink", Params: "l *collector.SpanLink", TypeName: `"v2.spanLink"`,
			Doc: "decodes an element of a transaction's or span's links into l.",
			Members: []member{
				kw("span_id", "l.SpanID").flag("spanSet"),
				kw("trace_id", "l.TraceID").flag("traceSet"),
			},
			Rules: required("span_id", "trace_id"),
		},
		{
			Name: "otel", TypeName: `"v2.otel"`,
			Doc:    "records the OpenTelemetry attributes and span kind of a transaction or span.",
			Before: "e := &d.ev",
			Members: []member{
				read("attributes", "ok = d.otelAttributes()"),
				text("span_kind", "e.spanKind").flag("e.spanKindSet"),
			},
			After: "e.otelSet = set || e.otelSet",
		},
		{
			Name: "metricsetSpanRef", TypeName: `"v2.metricsetSpanRef"`,
			Doc:    "decodes the span a metricset is about.",
			Before: "e := &d.ev",
			Members: []member{
				kw("subtype", "e.subtype"),
				kw("type", "e.typ"),
			},
		},
		{
			Name: "metricsetTransactionRef", TypeName: `"v2.metricsetTransactionRef"`,
			Doc:    "decodes the transaction a metricset is about.",
			Before: "e := &d.ev",
			Members: []member{
				kw("name", "e.txName"),
				kw("type", "e.txType"),
			},
		},
		{
			Name: "metricsetServiceRef", TypeName: `"v2.metricsetServiceRef"`,
			Doc:    "decodes the service a metricset gives, which replaces the metadata's name and version.",
			Before: "c := d.coldW()",
			Members: []member{
				kw("name", "c.msService.Name").flag("c.msServiceNameSet"),
				kw("version", "c.msService.Version"),
			},
		},
		{
			Name: "sampleValue", Params: "sv *sampleValue", TypeName: `"v2.metricsetSampleValue"`,
			Doc: "decodes the value of a metricset sample into sv.",
			Members: []member{
				readAs("type", "string", "s.str()", "sv.m.Type = metricType(v)"),
				text("unit", "sv.m.Unit"),
				readAs("value", "float64", "s.float()", "sv.m.Value, sv.valueSet = v, true"),
				read("values", "sv.values = values(d, &d.pool.floats, s.float)\nok = len(sv.values) > 0").last("sv.valuesSet"),
				read("counts", "sv.counts = values(d, &d.pool.counts, s.uint)\nok = len(sv.counts) > 0").last("sv.countsSet"),
			},
		},
	}
}
