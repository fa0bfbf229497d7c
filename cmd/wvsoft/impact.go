package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
)

// impactError is what --fail-on-change returns when the candidate changes an effect.
type impactError string

func (e impactError) Error() string { return string(e) }

const errImpact = impactError("the candidate policy changes decisions")

// impactRow is one group of recorded decisions that the candidate decides otherwise: the same
// field, action, role and record class, the same effect and rule before and after.
type impactRow struct {
	Field        string         `json:"field"` // Type.field
	Action       string         `json:"action"`
	Role         string         `json:"role"`
	Record       map[string]any `json:"record"`
	Special      bool           `json:"specialCategory"`
	EffectBefore string         `json:"effectBefore"`
	EffectAfter  string         `json:"effectAfter"`
	RuleBefore   string         `json:"ruleBefore"`
	RuleAfter    string         `json:"ruleAfter"`
	// RuleOnly is a change of the deciding rule with the same effect.
	RuleOnly bool `json:"ruleOnly"`
	// Events are the decisions recorded, Values the field values they were applied to.
	Events int   `json:"events"`
	Values int64 `json:"values"`
}

// policyImpact is `wvsoft policy impact`: it replays the inputs of the recorded decisions (the
// decision log's events) against a candidate policy and reports what it would decide otherwise.
func policyImpact(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("policy impact", flag.ContinueOnError)
	fs.SetOutput(stdout)
	candidate := fs.String("candidate", "", "the directory of the candidate policy (its .rego files; its tests must pass)")
	logFile := fs.String("log", "", "the decision log to replay, JSON lines (default: DECISION_LOG when it is a file)")
	since := fs.Duration("since", 0, "replay only decisions of this last stretch of time (e.g. 24h); default all")
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	failOnChange := fs.Bool("fail-on-change", false, "exit non-zero when the candidate changes an effect (for a review pipeline)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: wvsoft policy impact --candidate DIR [--log FILE | --since DURATION] [--json] [--fail-on-change]\n\n"+
			"Replays the inputs of recorded decisions against the candidate policy and prints, by type.field, role and record\n"+
			"class, the decisions it would make otherwise: effect and rule before and after, how many, and whether a special\n"+
			"category (BSN, health) is involved.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *candidate == "" {
		return errors.New("policy impact needs --candidate DIR")
	}
	if *logFile == "" {
		switch cfg.DecisionLog {
		case "off", "stderr", "stdout":
			return errors.New("policy impact needs --log FILE: DECISION_LOG is not a file")
		}
		if strings.HasPrefix(cfg.DecisionLog, "http") {
			return errors.New("policy impact needs --log FILE: DECISION_LOG is an upload service")
		}
		*logFile = cfg.DecisionLog
	}
	engine, err := authz.New(ctx, authz.WithDir(*candidate))
	if err != nil {
		return fmt.Errorf("the candidate policy: %w", err)
	}
	f, err := os.Open(*logFile)
	if err != nil {
		return err
	}
	defer f.Close()
	var from time.Time
	if *since > 0 {
		from = time.Now().Add(-*since)
	}
	rows, replayed, err := replay(ctx, engine, f, from)
	if err != nil {
		return err
	}
	effectChanges := 0
	for _, r := range rows {
		if !r.RuleOnly {
			effectChanges += r.Events
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"replayed": replayed, "changed": effectChanges, "changes": rows}); err != nil {
			return err
		}
	} else {
		printImpact(stdout, rows, replayed, effectChanges)
	}
	if *failOnChange && effectChanges > 0 {
		return errImpact
	}
	return nil
}

// replay decides every recorded input again with the candidate (each distinct input once) and
// groups the differences.
func replay(ctx context.Context, engine *authz.Engine, log io.Reader, from time.Time) ([]impactRow, int, error) {
	type key struct{ field, action, role, record, effect, effect2, rule, rule2 string }
	groups := map[key]*impactRow{}
	decided := map[string]authz.Decision{}
	replayed := 0
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var ev authz.DecisionEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Path == "" || ev.Input == nil {
			continue // another line of a shared log (DECISION_LOG=stderr)
		}
		if ev.Path != authz.DecisionPath {
			continue // a row filter (authz.RowsPath): not a field decision to replay
		}
		if !from.IsZero() && ev.Timestamp.Before(from) {
			continue
		}
		replayed++
		raw, _ := json.Marshal(ev.Input) // maps marshal with sorted keys: equal inputs, equal text
		after, ok := decided[string(raw)]
		if !ok {
			after = engine.DecideInput(ctx, ev.Input)
			decided[string(raw)] = after
		}
		before := ev.Result
		if before.Effect == after.Effect && before.Mask == after.Mask && before.Rule == after.Rule {
			continue
		}
		res, _ := ev.Input["resource"].(map[string]any)
		subject, _ := ev.Input["subject"].(map[string]any)
		record, _ := res["record"].(map[string]any)
		recordText, _ := json.Marshal(record)
		typ, _ := res["type"].(string)
		field, _ := res["field"].(string)
		action, _ := ev.Input["action"].(string)
		role, _ := subject["role"].(string)
		category, _ := res["category"].(string)
		k := key{typ + "." + field, action, role, string(recordText), effectOf(before), effectOf(after), before.Rule, after.Rule}
		g := groups[k]
		if g == nil {
			g = &impactRow{Field: k.field, Action: action, Role: role, Record: record, Special: category == "NATIONAL_ID" || category == "HEALTH",
				EffectBefore: k.effect, EffectAfter: k.effect2, RuleBefore: before.Rule, RuleAfter: after.Rule, RuleOnly: k.effect == k.effect2}
			groups[k] = g
		}
		g.Events++
		g.Values += ev.Count
	}
	if err := sc.Err(); err != nil {
		return nil, replayed, err
	}
	rows := make([]impactRow, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, *g)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.RuleOnly != b.RuleOnly {
			return !a.RuleOnly // effect changes first
		}
		if a.Special != b.Special {
			return a.Special
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Role+a.Action < b.Role+b.Action
	})
	return rows, replayed, nil
}

// effectOf is an effect as the report shows it: a mask with its kind.
func effectOf(d authz.Decision) string {
	if d.Effect == authz.Mask {
		return "mask:" + d.Mask
	}
	return d.Effect
}

func printImpact(w io.Writer, rows []impactRow, replayed, changed int) {
	fmt.Fprintf(w, "%d recorded decisions replayed; %d would change effect.\n", replayed, changed)
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFIELD\tACTION\tROLE\tRECORD\tBEFORE\tAFTER\tRULE BEFORE -> AFTER\tSPECIAL\tDECISIONS\tVALUES")
	for _, r := range rows {
		record, _ := json.Marshal(r.Record)
		special := ""
		if r.Special {
			special = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s -> %s\t%s\t%d\t%d\n", r.Field, r.Action, r.Role, compactRecord(record),
			r.EffectBefore, r.EffectAfter, r.RuleBefore, r.RuleAfter, special, r.Events, r.Values)
	}
	tw.Flush()
}

// compactRecord shows only the attributes of a record class that are set.
func compactRecord(raw []byte) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return string(raw)
	}
	var parts []string
	for k, v := range m {
		switch v {
		case "", false, nil:
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
