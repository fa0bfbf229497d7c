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
// of the request's CPU (issue 15). A body that cannot be read or decoded goes to gqlgen's
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
		// Written as it is made: a page with thousands of refused fields has ~400 KB of errors.
		b, err := appendErrors(make([]byte, 0, 16+160*len(resp.Errors)), resp.Errors)
		if err != nil { // not in the form appendErrors writes: the general way
			b, err = json.Marshal(resp.Errors)
		}
		if err != nil {
			b = []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`)
		}
		w.Write([]byte(`"errors":`))
		w.Write(b)
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

// appendErrors appends errs as encoding/json writes them. A page whose every record has a field
// denied has thousands of errors that share a handful of messages and one extensions map (made
// once per decision): each distinct message and map is encoded once, and the paths and
// locations, which are names and numbers, are written directly.
func appendErrors(b []byte, errs gqlerror.List) ([]byte, error) {
	messages := map[string][]byte{}
	extensions := map[uintptr][]byte{}
	b = append(b, '[')
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		if e == nil {
			b = append(b, "null"...)
			continue
		}
		msg, ok := messages[e.Message]
		if !ok {
			var err error
			if msg, err = json.Marshal(e.Message); err != nil {
				return nil, err
			}
			messages[e.Message] = msg
		}
		b = append(b, `{"message":`...)
		b = append(b, msg...)
		if len(e.Path) > 0 {
			b = append(b, `,"path":[`...)
			for j, p := range e.Path {
				if j > 0 {
					b = append(b, ',')
				}
				switch p := p.(type) {
				case ast.PathIndex:
					b = strconv.AppendInt(b, int64(p), 10)
				case ast.PathName:
					if !isName(string(p)) {
						return nil, errNotPlain
					}
					b = append(b, '"')
					b = append(b, p...)
					b = append(b, '"')
				default:
					return nil, errNotPlain
				}
			}
			b = append(b, ']')
		}
		if len(e.Locations) > 0 {
			b = append(b, `,"locations":[`...)
			for j, l := range e.Locations {
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
		if len(e.Extensions) > 0 {
			key := reflect.ValueOf(e.Extensions).Pointer()
			ext, ok := extensions[key]
			if !ok {
				var err error
				if ext, err = json.Marshal(e.Extensions); err != nil {
					return nil, err
				}
				extensions[key] = ext
			}
			b = append(b, `,"extensions":`...)
			b = append(b, ext...)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// errNotPlain: an error appendErrors leaves to encoding/json.
const errNotPlain = transportError("an error path that is not names and indexes")

type transportError string

func (e transportError) Error() string { return string(e) }

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
