package wvsoft

import "testing"

// A change by the system has no actor's record: its actor is decided as the entry's own field,
// with the entry's own state, so that staff reading the history of a register record may read it
// (the policy hides from staff only the history of a data space or a customer's accounts).
func TestSystemActorIsDecidedWithTheEntrysState(t *testing.T) {
	for _, c := range []struct {
		object string
		want   DataOf
	}{{KindContactPerson, DataOfCustomer}, {KindPerson, DataOfDataSpace}} {
		e := &HistoryEntry{ObjectType: c.object, ActorKind: "SYSTEM"}
		src, ok := e.DerivedFrom("actor")
		if !ok || src.Type != KindHistoryEntry || src.State.DataOf != c.want {
			t.Fatalf("%s: source %+v, %v; want the entry's own, data of %s", c.object, src, ok, c.want)
		}
	}
}
