// Package scalar holds the GraphQL scalars that gqlgen does not provide.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

const dateLayout = "2006-01-02"

// MarshalDate writes a calendar date as "YYYY-MM-DD".
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.Format(dateLayout)))
	})
}

// UnmarshalDate reads a calendar date written as "YYYY-MM-DD".
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &wvsoft.Error{Code: wvsoft.EINVALID, Message: "a Date is a string like 2024-05-25"}
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, &wvsoft.Error{Code: wvsoft.EINVALID, Message: "a Date is written as YYYY-MM-DD"}
	}
	return t, nil
}
