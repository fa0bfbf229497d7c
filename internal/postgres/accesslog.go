package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// WithLogKeys signs a checkpoint of the customer's access log in every transaction that appends
// to it. Without keys entries are appended unsigned, and every verification names
// them: serve always passes keys.
func WithLogKeys(k *accesslog.Keys) Option { return func(d *DB) { d.logKeys = k } }

// LogKeys returns the keys the store signs with, or nil.
func (d *DB) LogKeys() *accesslog.Keys { return d.logKeys }

// appendLog adds an entry to a customer's log inside tx and signs the new tree head.
func (d *DB) appendLog(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID, event, actorKind string, actor, grant *uuid.UUID, detail map[string]any, at time.Time) error {
	_, err := d.appendEntry(ctx, tx, tenant, event, actorKind, actor, grant, detail, at)
	return err
}

// appendRow is what access_log_append returns.
type appendRow struct {
	Seq      int64          `db:"entry_seq"`
	Record   string         `db:"entry_record"`
	Root     []byte         `db:"tree_root"`
	Levels   pq.Int64Array  `db:"frontier_levels"`
	Hashes   pq.ByteaArray  `db:"frontier_hashes"`
	LastNote sql.NullString `db:"last_note"`
	Adopted  int64          `db:"adopted_size"`
}

// appendEntry appends through the database's one append path, access_log_append, which
// numbers the entry and hashes it into the tree, and then signs the new head in the same
// transaction. It signs only what it can check without trusting the database: the record says
// what was asked; the tree before it is the one the newest checkpoint signed (the frontier the
// function returns folds to that root, and that checkpoint is one of this server's keys and of
// the size just before); the new root is that tree plus this one leaf, computed here with tlog.
// An entry that came in any other way breaks the chain of checkpoints, and the server refuses
// to sign over it: the append fails, and the error names the customer.
func (d *DB) appendEntry(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID, event, actorKind string, actor, grant *uuid.UUID, detail map[string]any, at time.Time) (*accesslog.Checkpoint, error) {
	if detail == nil {
		detail = map[string]any{}
	}
	// An access's lists of names are written as jsonb will write them (no encoding/json over
	// thousands of names), and the record the database returns is then compared as text.
	var raw []byte
	detailText, ok := "", false
	if lists := detailLists(detail); lists != nil {
		detailText, ok = accesslog.DetailText(lists)
	}
	if ok {
		raw = []byte(detailText)
	} else {
		var err error
		if raw, err = json.Marshal(detail); err != nil {
			return nil, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	var row appendRow
	if err := tx.GetContext(ctx, &row, `SELECT * FROM access_log_append($1, $2, $3, $4, $5, $6, $7, $8)`,
		tenant, id, at, event, actorKind, actor, grant, string(raw)); err != nil {
		return nil, err
	}
	if d.logKeys == nil {
		return nil, nil
	}
	want := &accesslog.Record{V: 1, Tenant: tenant, Seq: row.Seq, ID: id, At: at.Format(accesslog.TimeFormat), Event: event,
		ActorKind: actorKind, ActorID: actor, GrantID: grant, Detail: raw}
	root, err := d.extendedRoot(tenant, want, detailText, &row)
	if err != nil {
		// A revocation, denial or expiry protects the customer: it must take effect even when
		// the log was tampered with, so its entry stays unsigned (every verification and the
		// hourly look name it) instead of failing. Everything else that would extend a broken
		// log fails, and with it the access it records.
		if event == wvsoft.EventRevoked || event == wvsoft.EventDenied || event == wvsoft.EventExpired {
			return nil, nil
		}
		return nil, err
	}
	cp, err := d.logKeys.Sign(accesslog.Origin(tenant), row.Seq, root)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT access_log_add_checkpoint($1, $2, $3)`, tenant, row.Seq, cp.Note); err != nil {
		return nil, err
	}
	return cp, nil
}

// detailLists is detail as lists of names, or nil when it holds anything else.
func detailLists(detail map[string]any) map[string][]string {
	lists := make(map[string][]string, len(detail))
	for k, v := range detail {
		list, ok := v.([]string)
		if !ok {
			return nil
		}
		lists[k] = list
	}
	return lists
}

// extendedRoot checks what access_log_append returned and computes the root to sign: the tree
// of the newest checkpoint plus the one leaf of want's record.
func (d *DB) extendedRoot(tenant uuid.UUID, want *accesslog.Record, detailText string, row *appendRow) (tlog.Hash, error) {
	refuse := func(why string, args ...any) (tlog.Hash, error) {
		return tlog.Hash{}, fmt.Errorf("access log of customer %s: %s; refusing to sign it", tenant, fmt.Sprintf(why, args...))
	}
	// The same text is the same record; any other text is decoded and compared as values.
	if text, ok := want.Text(detailText); !ok || text != row.Record {
		rec, err := accesslog.ParseRecord([]byte(row.Record))
		if err != nil || !rec.Same(want) {
			return refuse("the database wrote entry %d other than asked", row.Seq)
		}
	}
	m := row.Seq - 1
	if len(row.Levels) != len(row.Hashes) {
		return refuse("the tree's frontier is malformed")
	}
	hashes := memHashes{}
	for i, l := range row.Levels {
		if len(row.Hashes[i]) != tlog.HashSize {
			return refuse("the tree's frontier is malformed")
		}
		hashes[tlog.StoredHashIndex(int(l), (m>>l)-1)] = tlog.Hash(row.Hashes[i])
	}
	before, err := tlog.TreeHash(m, hashes)
	if err != nil {
		return refuse("the tree before entry %d is incomplete", row.Seq)
	}
	if row.LastNote.Valid {
		last, err := d.logKeys.Open(row.LastNote.String)
		switch {
		case err != nil:
			return refuse("its newest checkpoint does not verify with this server's keys")
		case last.Origin != accesslog.Origin(tenant):
			return refuse("its newest checkpoint is of another log")
		case last.Size != m:
			return refuse("entries %d to %d came in without a checkpoint (the newest is of size %d)", last.Size+1, m, last.Size)
		case last.Root != before:
			return refuse("the tree before entry %d is not the one its newest checkpoint signed", row.Seq)
		}
	} else if m != row.Adopted {
		return refuse("entries %d to %d came in without a checkpoint", row.Adopted+1, m)
	}
	stored, err := tlog.StoredHashesForRecordHash(m, accesslog.LeafHash([]byte(row.Record)), hashes)
	if err != nil {
		return refuse("the tree before entry %d is incomplete", row.Seq)
	}
	base := tlog.StoredHashIndex(0, m)
	for i, h := range stored {
		hashes[base+int64(i)] = h
	}
	root, err := tlog.TreeHash(row.Seq, hashes)
	if err != nil || !bytes.Equal(root[:], row.Root) {
		return refuse("the database's root of %d entries is not the one computed here", row.Seq)
	}
	return root, nil
}

// memHashes is a tlog.HashReader over a few hashes in memory.
type memHashes map[int64]tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("hash %d is not at hand", x)
		}
		out[i] = h
	}
	return out, nil
}

// treeHashes is a tlog.HashReader over a customer's stored tree, inside a transaction.
type treeHashes struct {
	ctx    context.Context
	tx     *sqlx.Tx
	tenant uuid.UUID
}

func (t treeHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	levels, idxs := make([]int64, len(indexes)), make([]int64, len(indexes))
	for i, x := range indexes {
		l, n := tlog.SplitStoredHashIndex(x)
		levels[i], idxs[i] = int64(l), n
	}
	var rows []struct {
		Level int64  `db:"level"`
		Idx   int64  `db:"idx"`
		Hash  []byte `db:"hash"`
	}
	if err := t.tx.SelectContext(t.ctx, &rows, `SELECT t.level, t.idx, t.hash FROM access_log_tree t
		JOIN unnest($2::int[], $3::bigint[]) AS w (level, idx) ON t.level = w.level AND t.idx = w.idx
		WHERE t.tenant_id = $1`, t.tenant, pq.Array(levels), pq.Array(idxs)); err != nil {
		return nil, err
	}
	found := make(map[[2]int64][]byte, len(rows))
	for _, r := range rows {
		found[[2]int64{r.Level, r.Idx}] = r.Hash
	}
	out := make([]tlog.Hash, len(indexes))
	for i := range indexes {
		h := found[[2]int64{levels[i], idxs[i]}]
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("access log of customer %s: tree node (%d, %d) is missing", t.tenant, levels[i], idxs[i])
		}
		out[i] = tlog.Hash(h)
	}
	return out, nil
}

// sendCheckpoint e-mails a customer's admins the checkpoint that includes the end of a grant,
// through the outbox, in the transaction that ended it.
func (d *DB) sendCheckpoint(ctx context.Context, tx *sqlx.Tx, allTenants bool, g *wvsoft.SupportAccessGrant, event string, cp *accesslog.Checkpoint, now time.Time) error {
	if cp == nil || d.logKeys == nil {
		return nil // no signing key: nothing to vouch for
	}
	var admins []mailRecipient
	if err := tx.SelectContext(ctx, &admins, `SELECT lower(email) AS email, 'User.email' AS source, name FROM users WHERE tenant_id = $1 AND role = 'ADMIN' ORDER BY 1`, g.TenantID); err != nil {
		return err
	}
	// The public key is named so the admin can compare it with the one in the agreement; the
	// mail alone proves nothing, the key the customer got from WvSoft does.
	vkey := d.logKeys.VerifierKey
	// The outbox is WvSoft's own table, which only the register flag opens; the customer's
	// admin who revoked does not have it. It is raised for this one insert, which is the
	// server's own write, and lowered again before anything else runs in the transaction.
	if _, err := tx.ExecContext(ctx, setAllTenants(true)); err != nil {
		return err
	}
	tenant := g.TenantID
	if err := enqueue(ctx, tx, &tenant, admins, wvsoft.CheckpointLetter(g.UUID, event, cp.Note, vkey), wvsoft.PurposeSupportAccess, &g.UUID, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, setAllTenants(allTenants))
	return err
}

type checkpointRow struct {
	TenantID uuid.UUID `db:"tenant_id"`
	Size     int64     `db:"size"`
	Root     []byte    `db:"root"`
	Note     string    `db:"note"`
	MadeAt   time.Time `db:"made_at"`
}

func (r *checkpointRow) domain() *wvsoft.LogCheckpoint {
	if r == nil {
		return nil
	}
	return &wvsoft.LogCheckpoint{TenantID: r.TenantID, Size: r.Size, Root: r.Root, Note: r.Note, MadeAt: r.MadeAt}
}

// LatestCheckpoint is the newest signed checkpoint of a customer's log, or nil.
func (d *DB) LatestCheckpoint(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) (*wvsoft.LogCheckpoint, error) {
	rows := []checkpointRow{}
	err := selectRows(ctx, d, f, &rows, `SELECT tenant_id, size, root, note, made_at FROM access_log_checkpoints
		WHERE %s AND tenant_id = $2 ORDER BY size DESC LIMIT 1`, tenant)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0].domain(), nil
}

// SignedFrom is the first entry of a customer's log that has a checkpoint of its own.
func (d *DB) SignedFrom(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) (int64, error) {
	rows := []int64{}
	err := selectRows(ctx, d, f, &rows, `SELECT size FROM access_log_adopted WHERE %s AND tenant_id = $2`, tenant)
	if err != nil || len(rows) == 0 {
		return 1, err
	}
	return rows[0] + 1, nil
}

// logSize is the number of entries of a customer's log that tx sees.
func logSize(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID) (int64, error) {
	var n int64
	err := tx.GetContext(ctx, &n, `SELECT coalesce(max(seq), 0) FROM access_log WHERE tenant_id = $1`, tenant)
	return n, err
}

func checkpointOf(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID, size int64) (*wvsoft.LogCheckpoint, error) {
	rows := []checkpointRow{}
	if err := tx.SelectContext(ctx, &rows, `SELECT tenant_id, size, root, note, made_at FROM access_log_checkpoints
		WHERE tenant_id = $1 AND size = $2`, tenant, size); err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0].domain(), nil
}

// proofTx runs fn in a read-only transaction of the customer's log, or NOT_FOUND when the
// filter does not reach the customer.
func (d *DB) proofTx(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, fn func(tx *sqlx.Tx, size int64) error) error {
	if !f.Allows(tenant) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, func(tx *sqlx.Tx) error {
		size, err := logSize(ctx, tx, tenant)
		if err != nil {
			return err
		}
		return fn(tx, size)
	})
}

// InclusionProof proves entry seq into the tree of treeSize entries (default: the whole log).
func (d *DB) InclusionProof(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, seq int64, treeSize *int64) (*wvsoft.InclusionProof, error) {
	var out *wvsoft.InclusionProof
	err := d.proofTx(ctx, f, tenant, func(tx *sqlx.Tx, size int64) error {
		if treeSize != nil {
			if *treeSize < 1 || *treeSize > size {
				return wvsoft.Invalid("treeSize", "treeSize must be between 1 and the log's size, %d", size)
			}
			size = *treeSize
		}
		if seq < 1 || seq > size {
			return wvsoft.Invalid("seq", "seq must be between 1 and the tree's size, %d", size)
		}
		var record string
		if err := tx.GetContext(ctx, &record, `SELECT record FROM access_log WHERE tenant_id = $1 AND seq = $2`, tenant, seq); err != nil {
			return err
		}
		proof, err := tlog.ProveRecord(size, seq-1, treeHashes{ctx, tx, tenant})
		if err != nil {
			return err
		}
		leaf := accesslog.LeafHash([]byte(record))
		out = &wvsoft.InclusionProof{TenantID: tenant, Seq: seq, TreeSize: size, Record: []byte(record), LeafHash: leaf[:], Hashes: hashList(proof)}
		out.Checkpoint, err = checkpointOf(ctx, tx, tenant, size)
		return err
	})
	return out, err
}

// ConsistencyProof proves that the tree of to entries (default: the whole log) extends the
// tree of from entries.
func (d *DB) ConsistencyProof(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, from int64, to *int64) (*wvsoft.ConsistencyProof, error) {
	var out *wvsoft.ConsistencyProof
	err := d.proofTx(ctx, f, tenant, func(tx *sqlx.Tx, size int64) error {
		if to != nil {
			if *to < 1 || *to > size {
				return wvsoft.Invalid("to", "to must be between 1 and the log's size, %d", size)
			}
			size = *to
		}
		if from < 1 || from > size {
			return wvsoft.Invalid("from", "from must be between 1 and to, %d", size)
		}
		proof, err := tlog.ProveTree(size, from, treeHashes{ctx, tx, tenant})
		if err != nil {
			return err
		}
		out = &wvsoft.ConsistencyProof{TenantID: tenant, From: from, To: size, Hashes: hashList(proof)}
		if out.FromCheckpoint, err = checkpointOf(ctx, tx, tenant, from); err != nil {
			return err
		}
		out.ToCheckpoint, err = checkpointOf(ctx, tx, tenant, size)
		return err
	})
	return out, err
}

func hashList[P ~[]tlog.Hash](p P) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = append([]byte(nil), p[i][:]...)
	}
	return out
}

// AccessSummaries sums up, per grant, the ACCESS entries of a customer's log, newest grant
// activity first.
func (d *DB) AccessSummaries(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, grant *uuid.UUID) ([]*wvsoft.AccessGrantSummary, error) {
	var rows []struct {
		TenantID uuid.UUID      `db:"tenant_id"`
		GrantID  uuid.UUID      `db:"grant_id"`
		Requests int            `db:"requests"`
		Writes   int            `db:"writes"`
		Records  pq.StringArray `db:"records"`
		Fields   pq.StringArray `db:"fields"`
		First    time.Time      `db:"first"`
		Last     time.Time      `db:"last"`
	}
	// The detail's lists are read only when they are lists, so that a change of the detail's
	// content never breaks the summary.
	err := selectRows(ctx, d, f, &rows, `SELECT tenant_id, grant_id,
		count(DISTINCT seq) FILTER (WHERE NOT detail ? 'write') AS requests, count(DISTINCT seq) FILTER (WHERE detail ? 'write') AS writes,
		coalesce(array_agg(DISTINCT r.v ORDER BY r.v) FILTER (WHERE r.v IS NOT NULL), '{}') AS records,
		coalesce(array_agg(DISTINCT fl.v ORDER BY fl.v) FILTER (WHERE fl.v IS NOT NULL), '{}') AS fields,
		min(at) AS first, max(at) AS last
		FROM (SELECT tenant_id, seq, grant_id, detail, at FROM access_log
		      WHERE %s AND tenant_id = $2 AND event = 'ACCESS' AND grant_id IS NOT NULL AND ($3::uuid IS NULL OR grant_id = $3)) l
		LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(l.detail->'records') = 'array'
		          THEN l.detail->'records' ELSE '[]' END) AS r (v) ON true
		LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(l.detail->'fields') = 'array'
		          THEN l.detail->'fields' ELSE '[]' END) AS fl (v) ON true
		GROUP BY tenant_id, grant_id ORDER BY max(at) DESC, grant_id`, tenant, nullUUID(grant))
	if err != nil {
		return nil, err
	}
	out := make([]*wvsoft.AccessGrantSummary, len(rows))
	for i, r := range rows {
		first, last := r.First, r.Last
		out[i] = &wvsoft.AccessGrantSummary{TenantID: r.TenantID, GrantID: r.GrantID, Requests: r.Requests, Writes: r.Writes,
			Records: r.Records, Fields: r.Fields, FirstAt: &first, LastAt: &last}
	}
	return out, nil
}

// AccessLog returns a page of a customer's log in order, optionally for one grant and a time
// window. Each entry is read out of its record, the bytes its leaf hash covers.
func (d *DB) AccessLog(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, filter wvsoft.AccessLogFilter, afterSeq int64, first int) ([]*wvsoft.AccessLogEntry, bool, error) {
	// Each entry comes with the checkpoint of its own size, so that a verifier reading the log
	// through the API checks, as one reading the database does, that every entry was signed.
	rows := []struct {
		wvsoft.AccessLogEntry
		Root   []byte     `db:"cp_root"`
		Note   *string    `db:"cp_note"`
		MadeAt *time.Time `db:"cp_made_at"`
	}{}
	err := selectRows(ctx, d, f, &rows, `SELECT l.*, c.root AS cp_root, c.note AS cp_note, c.made_at AS cp_made_at
		FROM (SELECT tenant_id, seq, id, at, event, actor_kind, actor_id, grant_id, record
		  FROM access_log WHERE %s AND tenant_id = $2 AND seq > $3
		  AND ($4::uuid IS NULL OR grant_id = $4) AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
		  AND ($8::text IS NULL OR (jsonb_typeof(detail->'records') = 'array' AND detail->'records' ? $8))
		  ORDER BY tenant_id, seq LIMIT $7) l
		LEFT JOIN access_log_checkpoints c ON c.tenant_id = l.tenant_id AND c.tenant_id = $2 AND c.size = l.seq
		ORDER BY l.tenant_id, l.seq`, tenant, afterSeq, nullUUID(filter.GrantID), filter.From, filter.To, first+1, filter.Record)
	if err != nil {
		return nil, false, err
	}
	out := make([]*wvsoft.AccessLogEntry, len(rows))
	for i := range rows {
		e := rows[i].AccessLogEntry
		if err := fromRecord(&e); err != nil {
			return nil, false, err
		}
		if r := rows[i]; r.Note != nil {
			e.Checkpoint = &wvsoft.LogCheckpoint{TenantID: e.TenantID, Size: e.Seq, Root: r.Root, Note: *r.Note, MadeAt: *r.MadeAt}
		}
		out[i] = &e
	}
	return trimPage(out, first, nil)
}

// fromRecord fills an entry from its record, so that what the customer reads is what was hashed.
func fromRecord(e *wvsoft.AccessLogEntry) error {
	rec, err := accesslog.ParseRecord(e.Record)
	if err != nil {
		return fmt.Errorf("access log of customer %s, entry %d: %w", e.TenantID, e.Seq, err)
	}
	at, err := time.Parse(accesslog.TimeFormat, rec.At)
	if err != nil {
		return fmt.Errorf("access log of customer %s, entry %d: %w", e.TenantID, e.Seq, err)
	}
	e.UUID, e.At, e.Event, e.ActorKind, e.ActorID, e.GrantID = rec.ID, at, rec.Event, rec.ActorKind, rec.ActorID, rec.GrantID
	e.Detail = nil
	if err := json.Unmarshal(rec.Detail, &e.Detail); err != nil {
		return fmt.Errorf("access log of customer %s, entry %d: %w", e.TenantID, e.Seq, err)
	}
	leaf := accesslog.LeafHash(e.Record)
	e.Hash = leaf[:]
	return nil
}

// ReadLog reads what a verification needs of a customer's log, in one snapshot: every entry
// with its record and columns, every stored checkpoint, and the size adopted from before
// checkpoints existed.
func (d *DB) ReadLog(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) (accesslog.Log, error) {
	l := accesslog.Log{Tenant: tenant}
	if !f.Allows(tenant) {
		return l, wvsoft.NotFound("customer")
	}
	tx, err := d.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return l, mapError(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, setTenants([]uuid.UUID{tenant}, false)); err != nil {
		return l, mapError(err)
	}
	var rows []struct {
		wvsoft.AccessLogEntry
		Detail []byte `db:"detail"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT tenant_id, seq, id, at, event, actor_kind, actor_id, grant_id, detail, record
		FROM access_log WHERE tenant_id = $1 ORDER BY seq`, tenant); err != nil {
		return l, mapError(err)
	}
	for _, r := range rows {
		cols := &accesslog.Record{V: 1, Tenant: r.TenantID, Seq: r.Seq, ID: r.UUID, At: r.At.UTC().Format(accesslog.TimeFormat),
			Event: r.Event, ActorKind: r.ActorKind, ActorID: r.ActorID, GrantID: r.GrantID, Detail: r.Detail}
		l.Entries = append(l.Entries, accesslog.Entry{Seq: r.Seq, Record: r.Record, Columns: cols})
	}
	if err := tx.SelectContext(ctx, &l.Checkpoints, `SELECT note FROM access_log_checkpoints WHERE tenant_id = $1 ORDER BY size`, tenant); err != nil {
		return l, mapError(err)
	}
	if err := tx.GetContext(ctx, &l.Adopted, `SELECT coalesce((SELECT size FROM access_log_adopted WHERE tenant_id = $1), 0)`, tenant); err != nil {
		return l, mapError(err)
	}
	return l, mapError(tx.Commit())
}

// VerifyAccessLog checks a customer's log with this server's keys (the API's
// accessLogVerification). It is a convenience: a customer who does not trust the server checks
// with `wvsoft audit verify --checkpoint`, the public key and a checkpoint of its own.
func (d *DB) VerifyAccessLog(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) (*wvsoft.AccessLogVerification, error) {
	l, err := d.ReadLog(ctx, f, tenant)
	if err != nil {
		return nil, err
	}
	// Every checkpoint's root is compared, but only the newest one's signature is checked: a
	// signature costs about 0.1 ms, and a request has seconds, not minutes. The full check of
	// every signature is `wvsoft audit verify`'s.
	rep := accesslog.Verify(l, nil, nil)
	if n := len(l.Checkpoints); n > 0 {
		known := note.VerifierList()
		if d.logKeys != nil {
			known = d.logKeys.Verifiers()
		}
		if cp, err := accesslog.Open([]byte(l.Checkpoints[n-1]), known); err != nil {
			seq := int64(0)
			if u, uerr := accesslog.Unverified(l.Checkpoints[n-1]); uerr == nil {
				seq = u.Size
			}
			rep.Problems = append([]accesslog.Problem{{Seq: seq, What: "the newest checkpoint's signature does not verify with this server's keys"}}, rep.Problems...)
		} else if cp.Origin != accesslog.Origin(tenant) {
			rep.Problems = append([]accesslog.Problem{{Seq: cp.Size, What: "the newest checkpoint is of another log"}}, rep.Problems...)
		}
	}
	return Verification(rep), nil
}

// Verification is a report as the API shows it.
func Verification(r *accesslog.Report) *wvsoft.AccessLogVerification {
	v := &wvsoft.AccessLogVerification{Intact: r.Intact(), Entries: r.Entries}
	if p := r.First(); p != nil {
		seq, what := int(p.Seq), p.What
		v.FirstBrokenSeq, v.Problem = &seq, &what
	}
	return v
}

// CheckpointLogs is the hourly look at every customer's log (serve runs it with the purge).
// A log adopted from before checkpoints, with nothing appended since, gets its first checkpoint
// (trust on first use), so that its customer holds evidence without waiting for a grant. A log
// whose newest entries have no checkpoint is reported: every append through the server signs,
// so those entries came in another way (or from a server without keys).
func (d *DB) CheckpointLogs(ctx context.Context) (signed int, unsigned []uuid.UUID, err error) {
	var tenants []uuid.UUID
	if err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &tenants, `SELECT tenant_id FROM customers ORDER BY tenant_id`)
	}); err != nil {
		return 0, nil, err
	}
	for _, tenant := range tenants {
		err := d.inTx(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, func(tx *sqlx.Tx) error {
			// The append function's lock: no entry comes in while the head is read and signed.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7461003))`, tenant); err != nil {
				return err
			}
			var head struct {
				Size    int64 `db:"size"`
				Signed  int64 `db:"signed"`
				Adopted int64 `db:"adopted"`
			}
			if err := tx.GetContext(ctx, &head, `SELECT
				(SELECT coalesce(max(seq), 0) FROM access_log WHERE tenant_id = $1) AS size,
				(SELECT coalesce(max(size), 0) FROM access_log_checkpoints WHERE tenant_id = $1) AS signed,
				(SELECT coalesce(max(size), 0) FROM access_log_adopted WHERE tenant_id = $1) AS adopted`, tenant); err != nil {
				return err
			}
			switch {
			case head.Size == head.Signed:
				return nil
			case head.Signed == 0 && head.Size == head.Adopted && d.logKeys != nil:
				root, err := tlog.TreeHash(head.Size, treeHashes{ctx, tx, tenant})
				if err != nil {
					return err
				}
				cp, err := d.logKeys.Sign(accesslog.Origin(tenant), head.Size, root)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `SELECT access_log_add_checkpoint($1, $2, $3)`, tenant, head.Size, cp.Note); err != nil {
					return err
				}
				signed++
			default:
				unsigned = append(unsigned, tenant)
			}
			return nil
		})
		if err != nil {
			return signed, unsigned, err
		}
	}
	return signed, unsigned, nil
}
