package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postTransport is gqlgen's POST transport with the answer written as it is: gqlgen's own passes
// the whole response through encoding/json, which validates and compacts again the data that
// gqlgen has just written as JSON (a json.RawMessage). For a page of 1,000 persons that was ~8%
// of the request's CPU. A body that cannot be read or decoded goes to gqlgen's
// transport, which answers it as before.
type postTransport struct{ transport.POST }

func (h postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.POST.Do(w, r, exec)
		return
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.POST.Do(w, r, exec)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		// A document that does not parse, validate or pass the limits, answered as gqlgen's
		// transport answers it, without running the operation's extensions a second time.
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == "application/graphql-response+json" {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// responseContentType is gqlgen's choice from the Accept header (transport.POST's default).
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case "application/graphql-response+json":
			return "application/graphql-response+json"
		}
	}
	return "application/graphql-response+json"
}

// writeResponse writes resp as encoding/json would (errors, data, extensions), the data as gqlgen
// made it.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		// No response (the request was cancelled): what encoding/json writes for it.
		w.Write([]byte("null"))
		return
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		// Incremental delivery, which this server does not offer: the general way.
		b, _ := json.Marshal(resp)
		w.Write(b)
		return
	}
	w.Write([]byte("{"))
	if len(resp.Errors) > 0 {
		w.Write([]byte(`"errors":`))
		if e, ok := plainErrors(resp.Errors); ok {
			e.writeTo(w)
		} else if b, err := json.Marshal(resp.Errors); err == nil {
			w.Write(b) // not in the form errorsJSON writes: the general way
		} else {
			w.Write([]byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`))
		}
		w.Write([]byte(","))
	}
	w.Write([]byte(`"data":`))
	if len(resp.Data) == 0 {
		w.Write([]byte("null"))
	} else {
		w.Write(resp.Data)
	}
	if len(resp.Extensions) > 0 {
		b, err := json.Marshal(resp.Extensions)
		if err == nil {
			w.Write([]byte(`,"extensions":`))
			w.Write(b)
		}
	}
	w.Write([]byte("}"))
}

// errorsJSON writes a response's errors as encoding/json writes them. A page whose every record
// has a field denied has thousands of errors (~400 KB) that share a handful of messages and one
// extensions map (made once per decision): each distinct message and map is encoded once, the
// paths and locations, which are names and numbers, are written directly, and the whole goes
// out in chunks, never as one buffer grown to its size (that copying was half their cost).
type errorsJSON struct {
	errs       gqlerror.List
	messages   map[string][]byte
	extensions map[uintptr][]byte
}

// errorChunk is how much errorsJSON collects before it writes.
const errorChunk = 32 << 10

// plainErrors prepares errs for errorsJSON, or reports that they are not all in the form it
// writes (a path element that is no GraphQL name, extensions encoding/json refuses): those go
// through encoding/json.
func plainErrors(errs gqlerror.List) (*errorsJSON, bool) {
	e := &errorsJSON{errs: errs, messages: map[string][]byte{}, extensions: map[uintptr][]byte{}}
	for _, x := range errs {
		if x == nil {
			continue
		}
		for _, p := range x.Path {
			switch p := p.(type) {
			case ast.PathIndex:
			case ast.PathName:
				if !isName(string(p)) {
					return nil, false
				}
			default:
				return nil, false
			}
		}
		if _, ok := e.messages[x.Message]; !ok {
			msg, err := json.Marshal(x.Message)
			if err != nil {
				return nil, false
			}
			e.messages[x.Message] = msg
		}
		if len(x.Extensions) > 0 {
			key := reflect.ValueOf(x.Extensions).Pointer()
			if _, ok := e.extensions[key]; !ok {
				ext, err := json.Marshal(x.Extensions)
				if err != nil {
					return nil, false
				}
				e.extensions[key] = ext
			}
		}
	}
	return e, true
}

// writeTo writes the errors as a JSON array.
func (e *errorsJSON) writeTo(w io.Writer) {
	b := make([]byte, 0, errorChunk+2048)
	b = append(b, '[')
	for i, x := range e.errs {
		if len(b) >= errorChunk {
			w.Write(b)
			b = b[:0]
		}
		if i > 0 {
			b = append(b, ',')
		}
		if x == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, `{"message":`...)
		b = append(b, e.messages[x.Message]...)
		if len(x.Path) > 0 {
			b = append(b, `,"path":[`...)
			for j, p := range x.Path {
				if j > 0 {
					b = append(b, ',')
				}
				switch p := p.(type) {
				case ast.PathIndex:
					b = strconv.AppendInt(b, int64(p), 10)
				case ast.PathName:
					b = append(b, '"')
					b = append(b, p...)
					b = append(b, '"')
				}
			}
			b = append(b, ']')
		}
		if len(x.Locations) > 0 {
			b = append(b, `,"locations":[`...)
			for j, l := range x.Locations {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				if l.Line != 0 {
					b = append(b, `"line":`...)
					b = strconv.AppendInt(b, int64(l.Line), 10)
				}
				if l.Column != 0 {
					if l.Line != 0 {
						b = append(b, ',')
					}
					b = append(b, `"column":`...)
					b = strconv.AppendInt(b, int64(l.Column), 10)
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		if len(x.Extensions) > 0 {
			b = append(b, `,"extensions":`...)
			b = append(b, e.extensions[reflect.ValueOf(x.Extensions).Pointer()]...)
		}
		b = append(b, '}')
	}
	w.Write(append(b, ']'))
}

// isName reports whether s is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*), which JSON writes as is.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
