package authz

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Request is the authorization state of one request: the subject, the policy it pinned at its
// start (a reload in the middle does not mix two policies), and the decisions made so far.
type Request struct {
	policy  *compiled
	subject *wvsoft.Subject
	now     time.Time
	explain bool // the caller may see the decisions (MayExplain)

	decisions table[fieldKey, *FieldDecision]
	filters   table[filterKey, wvsoft.TenantFilter]
	// lastRecord is the tenant and state of the record whose field was decided last: a record's
	// fields are decided one after the other, and its state is the same for all of them.
	lastRecord atomic.Pointer[recordTarget]

	accessMu sync.Mutex
	accesses map[string]*grantAccess // by grant id
	// lastAccess is the record noted last and its grant: a record's fields are decided one
	// after the other, so all but its first find it noted here instead of in the maps.
	lastAccess struct {
		record wvsoft.Node
		grant  string
	}
	// taken: Accesses was asked for the access log before the answer was complete (TakeAccesses);
	// readAfter: a field was read under a grant after that, so the log needs them again.
	taken, readAfter bool
	records          map[string][]uuid.UUID // returned records by type, for the decision log
}

// NoteRecords notes records of a type that the request returns, for the decision log. Resolvers
// that return lists call it once per list; it costs an append.
func NoteRecords(ctx context.Context, kind string, ids ...uuid.UUID) {
	r := FromContext(ctx)
	if r == nil || len(ids) == 0 {
		return
	}
	r.accessMu.Lock()
	defer r.accessMu.Unlock()
	if r.records == nil {
		r.records = map[string][]uuid.UUID{}
	}
	r.records[kind] = append(r.records[kind], ids...)
}

// grantAccess collects which records one request read under one grant, and which fields (the
// decisions that allowed them). It keeps the objects; their ids are made once, at the end.
type grantAccess struct {
	tenant  uuid.UUID
	records map[wvsoft.Node]struct{}
	fields  map[*FieldDecision]struct{}
}

// recordAccess notes that field d of obj was read under d's grant. After TakeAccesses, a record
// or field not noted before makes ReadAfterTaken true.
func (r *Request) recordAccess(d *FieldDecision, obj any) {
	r.accessMu.Lock()
	defer r.accessMu.Unlock()
	if r.accesses == nil {
		r.accesses = map[string]*grantAccess{}
	}
	a := r.accesses[d.Grant]
	if a == nil {
		a = &grantAccess{tenant: d.tenant, records: map[wvsoft.Node]struct{}{}, fields: map[*FieldDecision]struct{}{}}
		r.accesses[d.Grant] = a
	}
	added := false
	if !d.noted.Load() {
		a.fields[d] = struct{}{}
		d.noted.Store(true)
		added = true
	}
	if n, ok := obj.(wvsoft.Node); ok {
		if last := &r.lastAccess; last.record != n || last.grant != d.Grant {
			if _, seen := a.records[n]; !seen {
				a.records[n] = struct{}{}
				added = true
			}
			last.record, last.grant = n, d.Grant
		}
	}
	r.readAfter = r.readAfter || (added && r.taken)
}

// ForeseeAccesses notes, before or while an answer's list is built (it may run beside the
// answer's own decisions: both note under the request's lock), what the list will show of its
// records under a grant: for each record (of type object) the leaf fields defs, with the same
// decisions the answer then finds made. The access log can then be written while the answer is
// built (TakeAccesses includes them). path are the fields on the way from the list to its
// records (a connection's edges and node, each as its object type and definition): if one of
// them is denied, the records are not shown and nothing is foreseen. Nothing is counted; the
// answer's own decisions count. It reports whether records were noted.
func (r *Request) ForeseeAccesses(ctx context.Context, path []PathField, object string, defs []*ast.FieldDefinition, records []any) bool {
	for _, p := range path {
		t, _ := r.targetOfNow(p.Object, p.Def, nil)
		if r.field(ctx, t, false).Effect == Deny {
			return false
		}
	}
	noted := false
	var class *recordClass
	for _, rec := range records {
		t, ok := r.targetOfNow(object, nil, rec)
		if !ok {
			return noted // not a record: decided as the answer meets it
		}
		if class == nil || class.tenant != t.tenant || class.state != t.state {
			class = &recordClass{object: object, tenant: t.tenant, state: t.state}
		}
		notedUnder := "" // the grant the record is noted under: its other fields need only be noted once each
		for _, def := range defs {
			d := class.lookup(def)
			if d == nil {
				t.def = def
				d = class.field(def, func() *FieldDecision { return r.field(ctx, t, true) })
			}
			if d.Grant != "" && d.Effect != Deny && (d.Grant != notedUnder || !d.noted.Load()) {
				r.recordAccess(d, rec)
				notedUnder, noted = d.Grant, true
			}
		}
	}
	return noted
}

// PathField is a field on the way from a list to its records: its object type and definition.
type PathField struct {
	Object string
	Def    *ast.FieldDefinition
}

// Accesses returns what the request read under support-access grants, for the access log.
func (r *Request) Accesses() []wvsoft.Access {
	r.accessMu.Lock()
	defer r.accessMu.Unlock()
	return r.accessesLocked()
}

// TakeAccesses is Accesses once every field of the answer is decided but before the answer is
// complete, so that the access log is written while the answer is: ReadAfterTaken tells whether
// a field was read under a grant after all (then Accesses has more than the log).
func (r *Request) TakeAccesses() []wvsoft.Access {
	r.accessMu.Lock()
	defer r.accessMu.Unlock()
	r.taken = true
	return r.accessesLocked()
}

// ReadAfterTaken reports a field read under a grant after TakeAccesses.
func (r *Request) ReadAfterTaken() bool {
	r.accessMu.Lock()
	defer r.accessMu.Unlock()
	return r.readAfter
}

func (r *Request) accessesLocked() []wvsoft.Access {
	out := make([]wvsoft.Access, 0, len(r.accesses))
	for id, a := range r.accesses {
		grant, err := uuid.Parse(id)
		if err != nil {
			continue
		}
		acc := wvsoft.Access{GrantID: grant, TenantID: a.tenant}
		if len(a.records) > 0 {
			acc.Records = make([]string, 0, len(a.records))
		}
		for rec := range a.records {
			acc.Records = append(acc.Records, rec.ID())
		}
		// Two objects of one record (read twice) give one id twice.
		slices.Sort(acc.Records)
		acc.Records = slices.Compact(acc.Records)
		seen := map[string]bool{}
		for d := range a.fields {
			if name := d.typ + "." + d.field; d.action == ActionRead && !seen[name] {
				seen[name] = true
				acc.Fields = append(acc.Fields, name)
			}
		}
		out = append(out, acc)
	}
	return out
}

// Now is the request's time as the policy sees it.
func (r *Request) Now() time.Time { return r.now }

// fieldKey is what a field decision depends on: the field's schema definition (type and field),
// the tenant of the object and its record state. The policy reads nothing else of the object.
type fieldKey struct {
	field  *ast.FieldDefinition
	object string // the object's type: a field selected through an interface (Node.id) has the interface's definition for every type
	tenant uuid.UUID
	state  wvsoft.RecordState
	action string // "" for reading, the common case
}

type filterKey struct{ typ, action string }

// FieldDecision is a cached decision and how often it was applied, for the decision log.
type FieldDecision struct {
	Decision
	typ, field, category string
	action               string
	input                Input // what the policy was asked, for the decision log and explanations
	tenant               uuid.UUID
	err                  error // the FORBIDDEN error of a denied field, made once
	// noted: in its grant's fields for the access log (recordAccess; under the request's lock
	// when set).
	noted atomic.Bool
	count counter // last: it is written by every field it decides, the rest only read
}

// NewRequest starts the authorization state of a request by subject.
func (e *Engine) NewRequest(subject *wvsoft.Subject) *Request {
	return &Request{
		policy:  e.current.Load(),
		subject: subject,
		// The second is the unit of time the policy sees, so that decisions can be shared
		// across the requests of one second (see sharedCache).
		now:     e.now().Truncate(time.Second),
		explain: e.mayExplain(subject.Email),
	}
}

// Subject returns the caller.
func (r *Request) Subject() *wvsoft.Subject { return r.subject }

// Filter returns the tenant filter for rows of typ that the request may act on; the stores
// put it into the SQL.
func (r *Request) Filter(ctx context.Context, typ, action string) (wvsoft.TenantFilter, error) {
	k := filterKey{typ, action}
	if f, ok := r.filters.get(k); ok {
		return f, nil
	}
	f, err := r.policy.rowsCached(ctx, Input{Subject: r.subject, Action: action, Resource: Resource{Type: typ}, Time: r.now})
	if err != nil {
		return f, err
	}
	if len(f.DataOf) > 0 && !rowConditionSupported(typ) {
		// A condition the store would not put into its SQL would let every row through: deny.
		return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "no access (the policy's data_of condition is not supported for %s)", typ)
	}
	return r.filters.put(k, f), nil
}

// rowConditionSupported reports the types whose store operations put a filter's record-state
// condition (TenantFilter.DataOf) into their SQL: internal/postgres's requestKinds and
// historyTables. For any other type a policy that answers rows with data_of is refused.
func rowConditionSupported(typ string) bool {
	return typ == wvsoft.KindDataSubjectRequest || typ == wvsoft.KindHistoryEntry
}

// target is what a field decision is about: the object's type and field, and the tenant and
// privacy state of the record (wvsoft.RecordState).
type target struct {
	object string
	def    *ast.FieldDefinition
	tenant uuid.UUID
	state  wvsoft.RecordState
	// shard is where the record's decisions count (counter.addFor): a byte of its id, or of
	// chance for an object without one.
	shard byte
}

// recordTarget is the part of a target that is the record's, and the class of records alike
// (same tenant and state) it belongs to.
type recordTarget struct {
	obj   any // a pointer: compared by identity
	t     target
	class *recordClass
	// noted is the grant under which the record is noted for the access log, once it is: its
	// other fields read under that grant need not note it again.
	noted atomic.Pointer[string]
}

// recordClass keeps the scalar fields' decisions of records of one type, tenant and state, by field:
// the records of a page are mostly alike, and finding a decision by the field's pointer costs
// less than by the whole key (W1's 13,000 decisions). Its entries are the ones
// Request.field returns for the class, so both ways give the same decision.
type recordClass struct {
	object string // the records' type: a field selected through an interface has one definition for all
	tenant uuid.UUID
	state  wvsoft.RecordState
	// decided is read by every scalar field of every record of the class and written once per
	// field: a short list searched by pointer, replaced whole when it grows (copy on write).
	decided atomic.Pointer[[]classDecision]
	mu      sync.Mutex // for writers
}

type classDecision struct {
	def *ast.FieldDefinition
	d   *FieldDecision
}

// lookup returns the class's decision about def, or nil before it is made.
func (c *recordClass) lookup(def *ast.FieldDefinition) *FieldDecision {
	if list := c.decided.Load(); list != nil {
		for _, e := range *list {
			if e.def == def {
				return e.d
			}
		}
	}
	return nil
}

// field returns the class's decision about def, asking decide the first time.
func (c *recordClass) field(def *ast.FieldDefinition, decide func() *FieldDecision) *FieldDecision {
	if d := c.lookup(def); d != nil {
		return d
	}
	d := decide()
	c.mu.Lock()
	defer c.mu.Unlock()
	if first := c.lookup(def); first != nil {
		return first
	}
	var list []classDecision
	if old := c.decided.Load(); old != nil {
		list = append(make([]classDecision, 0, len(*old)+1), *old...)
	}
	list = append(list, classDecision{def: def, d: d})
	c.decided.Store(&list)
	return d
}

// DecidedAlready is Decide's way for the common case, a scalar field of the record whose other
// fields were just decided, once its class has the decision: no target is read and no directive
// looked up (a @derived field's decision is never in a class, so it never comes this way).
func (r *Request) DecidedAlready(object string, def *ast.FieldDefinition, obj any) *FieldDecision {
	last := r.lastRecord.Load()
	if last == nil || last.obj != obj || last.class == nil || last.class.object != object {
		return nil
	}
	d := last.class.lookup(def)
	if d == nil {
		return nil
	}
	d.count.addFor(last.t.shard)
	if d.Grant != "" && d.Effect != Deny {
		if g := last.noted.Load(); g == nil || *g != d.Grant || !d.noted.Load() {
			r.recordAccess(d, obj)
			last.noted.Store(&d.Grant)
		}
	}
	return d
}

// targetOf reads the tenant and record state of obj, whose field def of type object is decided,
// and returns the class of records obj belongs to (nil for objects of other kinds).
//
// A read remembers the record (Request.lastRecord): the records a query reads do not change while
// it runs. Writes and subscriptions' re-checks, whose records may change between two questions,
// read the record every time (targetOfNow).
func (r *Request) targetOf(object string, def *ast.FieldDefinition, obj any) (target, *recordClass) {
	last := r.lastRecord.Load()
	if last != nil && last.obj == obj {
		t := last.t
		t.object, t.def = object, def
		return t, last.class
	}
	t, remember := r.targetOfNow(object, def, obj)
	if !remember {
		return t, nil
	}
	// A record like the one before it shares its class.
	var class *recordClass
	if last != nil && last.class.object == object && last.class.tenant == t.tenant && last.class.state == t.state {
		class = last.class
	} else {
		class = &recordClass{object: object, tenant: t.tenant, state: t.state}
	}
	r.lastRecord.Store(&recordTarget{obj: obj, t: t, class: class})
	return t, class
}

// targetOfNow reads the tenant and record state of obj. remember is whether obj is a record that
// compares by identity (one of the domain's pointers: never a panic on ==).
func (r *Request) targetOfNow(object string, def *ast.FieldDefinition, obj any) (t target, remember bool) {
	t = target{object: object, def: def}
	if o, ok := obj.(wvsoft.Tenanted); ok {
		t.tenant = o.Tenant()
	}
	if o, ok := obj.(wvsoft.Stateful); ok {
		t.state = o.RecordState(r.now)
	}
	t.state.ConsentWithdrawn = r.withdrawn(t.tenant)
	switch o := obj.(type) {
	case *wvsoft.Person:
		t.shard = o.UUID[15]
	case *wvsoft.ContactPerson:
		t.shard = o.UUID[15]
	case *wvsoft.Customer:
		t.shard = o.TenantID[15]
	case *wvsoft.User:
		t.state.IsSubject = o.UUID == r.subject.ID
		t.shard = o.UUID[15]
	case *wvsoft.StaffMember:
		t.state.IsSubject = o.UUID == r.subject.ID
	default:
		t.shard = byte(rand.Uint32())
		return t, false
	}
	return t, true
}

// field returns the decision about one field of an object, evaluating the policy only the first
// time the request meets this (field, tenant, record state).
func (r *Request) field(ctx context.Context, t target, leaf bool) *FieldDecision {
	k := fieldKey{field: t.def, object: t.object, tenant: t.tenant, state: t.state}
	if d, ok := r.decisions.peek(k); ok {
		return d // the common case: a decision about this tenant's records, made and folded
	}
	if leaf && t.tenant != uuid.Nil && r.reachesAll(ctx, t.object) {
		// Where the subject reaches every tenant's rows of this type (staff reading the
		// register), a scalar field's decision may not depend on which tenant, only on the
		// record's state: decide once per class of records alike, without a tenant, and
		// remember it only so (one entry per class, not per tenant). Fields that lead to other
		// objects (a customer's persons) stay per tenant.
		t.tenant, k.tenant = uuid.Nil, uuid.Nil
	}
	return r.decideOnce(ctx, k, t, ActionRead)
}

// reachesAll reports whether the subject reads every tenant's rows of typ.
func (r *Request) reachesAll(ctx context.Context, typ string) bool {
	f, err := r.Filter(ctx, typ, ActionRead)
	return err == nil && f.All
}

// withdrawn reports whether tenant's customer withdrew consent, as the subject was told.
func (r *Request) withdrawn(tenant uuid.UUID) bool {
	if tenant == uuid.Nil {
		return false
	}
	for _, t := range r.subject.ConsentWithdrawn {
		if t == tenant {
			return true
		}
	}
	return false
}

// decideOnce returns the decision remembered under k, or evaluates it and remembers it.
func (r *Request) decideOnce(ctx context.Context, k fieldKey, t target, action string) *FieldDecision {
	if d, ok := r.decisions.get(k); ok {
		return d
	}
	return r.decisions.put(k, r.evaluate(ctx, t, action)) // of two goroutines, the first decision stays
}

// evaluate asks the policy (through the shared cache) about one field of a target.
func (r *Request) evaluate(ctx context.Context, t target, action string) *FieldDecision {
	res := Resource{Type: t.object, Field: t.def.Name, TenantID: t.tenant, State: t.state}
	if p, ok := r.policy.personal[typeField{t.object, t.def.Name}]; ok {
		res.Category, res.Purposes = p.Category, p.Purposes
	}
	in := Input{Subject: r.subject, Action: action, Resource: res, Time: r.now}
	d := &FieldDecision{typ: t.object, field: t.def.Name, category: res.Category, tenant: t.tenant, action: action, input: in}
	d.Decision = r.policy.decideCached(ctx, in)
	if d.Effect != Allow {
		verb := "read "
		if action == ActionWrite {
			verb = "write "
		}
		msg := "not allowed to " + verb + t.object + "." + t.def.Name
		if t.object == "Mutation" {
			msg = "not allowed to run " + t.def.Name
		}
		// Made once per decision and shown for every value it denies, with its extensions.
		d.err = &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: msg, Extensions: map[string]any{"code": wvsoft.EFORBIDDEN}}
	}
	return d
}

type requestKey struct{}

// WithRequest puts the request's authorization state into ctx.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// FromContext returns the request's authorization state, or nil when there is none.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Filter returns the tenant filter of the request in ctx for typ and action. Without an
// authorization state it denies: no request reaches the store unauthenticated.
func Filter(ctx context.Context, typ, action string) (wvsoft.TenantFilter, error) {
	r := FromContext(ctx)
	if r == nil {
		return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EUNAUTHENTICATED, "authentication required")
	}
	return r.Filter(ctx, typ, action)
}

// ReadField decides whether the request may read field def of obj, an object of type object
// (nil for a field of a root type), as the hook decides it, and counts it like the hook. It is
// for a field the hook does not see again although its answer may change: a subscription's root
// field, decided once when the subscription starts and again at each of its events; and for a
// value the server uses on the subject's behalf, such as the address a notice is mailed to.
func (r *Request) ReadField(ctx context.Context, object string, def *ast.FieldDefinition, obj any) Decision {
	t, _ := r.targetOfNow(object, def, obj)
	d := r.field(ctx, t, false)
	d.count.addFor(t.shard)
	return d.Decision
}

// WriteField decides whether the request may set one field of obj, an object of type object,
// through a mutation's input: the policy's decision with action "write", about the record's
// tenant and state like a read of that field. For an update obj is the record as stored (read
// within the write filter); for a create, the record about to be written.
func (r *Request) WriteField(ctx context.Context, object string, def *ast.FieldDefinition, obj any) Decision {
	t, _ := r.targetOfNow(object, def, obj)
	d := r.decideOnce(ctx, fieldKey{field: def, object: object, tenant: t.tenant, state: t.state, action: ActionWrite}, t, ActionWrite)
	d.count.add()
	return d.Decision
}
