package authz_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// unreachable is a persistence store whose every method panics: the store behind the policy,
// for a request that the policy must stop before it reaches the store.
type unreachable struct{ wvsoft.Store }

// Like Coder's dbauthz: every exported method of the authorized store asks the policy before it
// touches the store it wraps. Called without an authorization state (no subject, no policy),
// each must refuse (UNAUTHENTICATED or FORBIDDEN) and never call through; a method added without asking fails
// here, whatever its arguments.
func TestEveryStoreMethodAsksThePolicy(t *testing.T) {
	// The methods that pass through, each for its reason; a new one needs its line here.
	passThrough := map[string]string{
		"Purge":           "acts on every customer: the API's runPurge is decided as Mutation.runPurge first, the operator's purge has no caller",
		"LogAccess":       "writes what the request's own decisions recorded, before its answer leaves",
		"SubmitInquiry":   "a website visitor's question, decided as Mutation.submitInquiry (anyone may ask)",
		"SubjectsChanged": "tells the store that a decided mutation ran; it reads and writes nothing",
	}
	store := authz.NewStore(unreachable{})
	v := reflect.ValueOf(store)
	errType := reflect.TypeOf((*error)(nil)).Elem()
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	n := 0
	for i := 0; i < v.NumMethod(); i++ {
		m := v.Type().Method(i)
		ft := m.Type // the receiver is argument 0
		if ft.NumIn() < 2 || ft.In(1) != ctxType {
			continue // not a call of the store: no request to decide
		}
		n++
		if why, ok := passThrough[m.Name]; ok {
			t.Logf("%s passes through: %s", m.Name, why)
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			args := []reflect.Value{reflect.ValueOf(context.Background())}
			for j := 2; j < ft.NumIn(); j++ {
				in := ft.In(j)
				if in.Kind() == reflect.Pointer {
					args = append(args, reflect.New(in.Elem()))
				} else {
					args = append(args, reflect.Zero(in))
				}
			}
			var out []reflect.Value
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s called the store it wraps without asking the policy: %v", m.Name, p)
					}
				}()
				out = v.Method(i).Call(args)
			}()
			if len(out) == 0 || out[len(out)-1].Type() != errType {
				t.Fatalf("%s returns no error: it cannot refuse", m.Name)
			}
			err, _ := out[len(out)-1].Interface().(error)
			var we *wvsoft.Error
			if !errors.As(err, &we) || (we.Code != wvsoft.EUNAUTHENTICATED && we.Code != wvsoft.EFORBIDDEN) {
				t.Fatalf("%s without an authorization state: %v, want a refusal", m.Name, fmt.Sprint(err))
			}
		})
	}
	if n < 30 {
		t.Fatalf("only %d methods found", n)
	}
}
