package accesslog

import (
	"fmt"
	"sort"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
)

// Entry is one row of a customer's log as the database holds it.
type Entry struct {
	// Seq is the row's position.
	Seq int64
	// Record is the canonical record, the bytes the leaf hash covers.
	Record []byte
	// Columns is the entry as the row's other columns say (what filters and the entry list
	// read); nil when the caller has only records.
	Columns *Record
}

// Problem is one finding, at the first entry it concerns.
type Problem struct {
	Seq  int64
	What string
}

// Report is the outcome of a check.
type Report struct {
	Entries int
	// Covered is the size of the largest signed checkpoint that matches the log.
	Covered  int64
	Problems []Problem
}

// Intact is whether nothing was found.
func (r *Report) Intact() bool { return len(r.Problems) == 0 }

// First is the first problem, by position.
func (r *Report) First() *Problem {
	if len(r.Problems) == 0 {
		return nil
	}
	return &r.Problems[0]
}

// Log is what a check reads of one customer's log.
type Log struct {
	Tenant  uuid.UUID
	Entries []Entry // by Seq
	// Checkpoints are the signed notes the server stored, one per appending transaction.
	Checkpoints []string
	// Adopted is the size the log had before checkpoints existed (migration 00006); those
	// entries have no checkpoint of their own size.
	Adopted int64
}

// Verify checks a customer's log:
//
//  1. the entries are numbered 1, 2, 3, … without a gap, and each record names its customer and
//     position (and agrees with the row's columns);
//  2. the tree is rebuilt from the records alone;
//  3. every checkpoint the server stored verifies with a known key, is of this customer and
//     matches the rebuilt tree at its size; none is larger than the log (a cut tail);
//  4. every entry after the adopted ones has a checkpoint of its own size: the server signs in
//     the transaction that appends, so an entry without one came in another way;
//  5. kept, the checkpoint the customer holds, verifies, and the log's first kept.Size records
//     are exactly those it vouches for.
//
// known verifies the signatures; without it (nil) only the checkpoints' roots are compared, which
// proves nothing against someone who can write checkpoints. kept may be nil, and needs known.
func Verify(l Log, known note.Verifiers, kept []byte) *Report {
	rep := &Report{Entries: len(l.Entries)}
	add := func(seq int64, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Seq: seq, What: fmt.Sprintf(format, args...)})
	}
	tree := &Tree{}
	for i, e := range l.Entries {
		want := int64(i + 1)
		if e.Seq != want {
			add(want, "entry %d is missing: the log goes on with entry %d (deleted)", want, e.Seq)
			break // later records cannot be placed in the tree any more
		}
		rec, err := ParseRecord(e.Record)
		switch {
		case err != nil:
			add(want, "entry %d: %v", want, err)
		case rec.Tenant != l.Tenant || rec.Seq != want:
			add(want, "entry %d: its record names entry %d of customer %s (moved or inserted)", want, rec.Seq, rec.Tenant)
		case e.Columns != nil && !rec.Same(e.Columns):
			add(want, "entry %d: the row's columns differ from its record (altered)", want)
		}
		if err := tree.Add(e.Record); err != nil {
			add(want, "entry %d: %v", want, err)
			break
		}
	}
	n := tree.Size()

	signed := map[int64]bool{}
	var matched, mismatched []int64
	beyond := int64(0) // the largest signed size beyond the log
	for _, text := range l.Checkpoints {
		var cp *Checkpoint
		var err error
		if known == nil {
			cp, err = Unverified(text) // the caller said it has no key: roots only
		} else {
			cp, err = Open([]byte(text), known)
		}
		if err != nil {
			seq := int64(0)
			if u, uerr := Unverified(text); uerr == nil {
				seq = u.Size
			}
			add(seq, "a stored checkpoint (size %d): %v", seq, err)
			continue
		}
		if cp.Origin != Origin(l.Tenant) {
			add(cp.Size, "a stored checkpoint is of another log (%s)", cp.Origin)
			continue
		}
		signed[cp.Size] = true
		if cp.Size > n {
			beyond = max(beyond, cp.Size)
			continue
		}
		if root, err := tree.Root(cp.Size); err == nil && root == cp.Root {
			matched = append(matched, cp.Size)
		} else {
			mismatched = append(mismatched, cp.Size)
		}
	}
	if beyond > 0 {
		add(n+1, "a checkpoint signed %d entries, the log has %d: entries %d to %d were removed", beyond, n, n+1, beyond)
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i] < matched[j] })
	sort.Slice(mismatched, func(i, j int) bool { return mismatched[i] < mismatched[j] })
	if len(matched) > 0 {
		rep.Covered = matched[len(matched)-1]
	}
	if len(mismatched) > 0 {
		first := mismatched[0]
		lastGood := int64(0)
		for _, s := range matched {
			if s < first {
				lastGood = s
			}
		}
		if lastGood == first-1 {
			add(first, "entry %d is not the entry that was signed (altered, inserted or replaced)", first)
		} else {
			add(lastGood+1, "an entry between %d and %d is not the entry that was signed (altered, inserted or replaced)", lastGood+1, first)
		}
	}
	for s := l.Adopted + 1; s <= n; s++ {
		if !signed[s] {
			add(s, "entry %d has no signed checkpoint of its own: it was not appended by the server (or its checkpoint was removed)", s)
			break
		}
	}

	if kept != nil {
		if known == nil {
			known = note.VerifierList()
		}
		cp, err := Open(kept, known)
		switch {
		case err != nil:
			add(0, "your checkpoint: %v", err)
		case cp.Origin != Origin(l.Tenant):
			add(0, "your checkpoint is of another log (%s)", cp.Origin)
		case cp.Size > n:
			add(n+1, "your checkpoint vouches for %d entries, the log has %d: entries %d to %d were removed", cp.Size, n, n+1, cp.Size)
		default:
			if root, err := tree.Root(cp.Size); err != nil || root != cp.Root {
				add(firstAfter(matched, cp.Size), "the log's first %d entries are not those your checkpoint vouches for", cp.Size)
			}
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Seq < rep.Problems[j].Seq })
	return rep
}

// firstAfter guesses where a mismatch with the customer's checkpoint starts: after the largest
// server checkpoint that still matches, below the customer's size.
func firstAfter(matched []int64, size int64) int64 {
	seq := int64(1)
	for _, s := range matched {
		if s < size {
			seq = s + 1
		}
	}
	return seq
}
