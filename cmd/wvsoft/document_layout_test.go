package main

// The printed documents as a person opens them: on a phone (360 CSS pixels wide) and on A4.
// Headless Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), so
// the test needs nothing but the browser the project installs: no driver, no port. The layout on
// paper is read back from the PDF's structure tree (Chromium writes tagged PDFs): each table row,
// list item and heading knows the pages its content landed on.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// phoneWidth is the narrowest phone the documents are read on, in CSS pixels.
const phoneWidth = 360

// devtools is one headless Chromium, spoken to over its DevTools pipe.
type devtools struct {
	cmd     *exec.Cmd
	send    *os.File
	recv    *bufio.Reader
	next    int
	session string
}

// startDevtools starts Chromium with a fresh profile and a blank page to drive; it ends with t.
func startDevtools(t *testing.T) *devtools {
	t.Helper()
	browser := chromium(t)
	// fd 3 is what Chromium reads commands from, fd 4 where it writes answers.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ansR, ansW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, ansW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("chromium: %v", err)
	}
	cmdR.Close()
	ansW.Close()
	d := &devtools{cmd: cmd, send: cmdW, recv: bufio.NewReader(ansR)}
	t.Cleanup(func() {
		d.call("Browser.close", nil, nil)
		cmdW.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		ansR.Close()
		cancel()
	})
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := d.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	d.session = attached.SessionID
	return d
}

// call sends one command (to the page once attached) and waits for its answer; events that
// arrive meanwhile are not needed and are dropped.
func (d *devtools) call(method string, params, result any) error {
	d.next++
	msg := map[string]any{"id": d.next, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if d.session != "" && !strings.HasPrefix(method, "Target.") && !strings.HasPrefix(method, "Browser.") {
		msg["sessionId"] = d.session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := d.send.Write(append(b, 0)); err != nil {
		return err
	}
	for {
		raw, err := d.recv.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		var answer struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(raw[:len(raw)-1], &answer); err != nil {
			return err
		}
		if answer.ID != d.next {
			continue
		}
		if answer.Error != nil {
			return fmt.Errorf("%s: %s", method, answer.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(answer.Result, result)
		}
		return nil
	}
}

// eval evaluates a script in the page (awaiting a promise) and decodes its value.
func (d *devtools) eval(script string, result any) error {
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := d.call("Runtime.evaluate", map[string]any{"expression": script, "awaitPromise": true, "returnByValue": true}, &out); err != nil {
		return err
	}
	if out.ExceptionDetails != nil {
		return errors.New(out.ExceptionDetails.Text)
	}
	return json.Unmarshal(out.Result.Value, result)
}

// open loads url and waits until it and its fonts are there.
func (d *devtools) open(url string) error {
	if err := d.call("Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return err
	}
	var ok bool
	return d.eval(`new Promise((resolve) => {
		const ready = () => document.fonts.ready.then(() => resolve(true));
		if (document.readyState === 'complete') ready(); else addEventListener('load', ready);
	})`, &ok)
}

// measureWidths lists what sticks out of the layout viewport sideways: every element whose box
// reaches past its edges, and the page's own scroll width. The layout viewport must be the
// device's width, which a page gets only by declaring it (<meta name="viewport">); without it a
// phone lays the page out 980 pixels wide and shows it shrunk.
const measureWidths = `(() => {
	const width = document.documentElement.clientWidth;
	const wide = [];
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		if (r.right > width + 0.5 || r.left < -0.5) {
			const name = el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '');
			wide.push(name + ' (' + Math.round(r.left) + '..' + Math.round(r.right) + ' px): ' + el.textContent.replace(/\s+/g, ' ').trim().slice(0, 60));
		}
	}
	const more = wide.length > 12 ? ['and ' + (wide.length - 12) + ' more'] : [];
	return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 12).concat(more) };
})()`

// docLayout is how a document came out in the browser.
type docLayout struct {
	Title       string
	Pages       int
	PhoneLayout int      // the layout viewport's width on the phone, CSS pixels
	ScrollWidth int      // the page's width on the phone, CSS pixels
	Wide        []string // elements wider than the phone's screen
	Split       []string // rows, list items and headings printed over two pages
	Stranded    []string // headings printed as the last thing on a page
}

// readDocument opens html as a person would: on a phone 360 pixels wide (screenshot
// name-phone.png) and printed on A4 (name.pdf), all kept in artifactDir with name.html.
func readDocument(t *testing.T, name, html string) docLayout {
	t.Helper()
	dir := artifactDir(t)
	src := filepath.Join(dir, name+".html")
	if err := os.WriteFile(src, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDevtools(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	must(d.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": phoneWidth, "height": 780, "deviceScaleFactor": 2, "mobile": true}, nil))
	must(d.open("file://" + src))
	var phone struct {
		Width       int      `json:"width"`
		ScrollWidth int      `json:"scrollWidth"`
		Wide        []string `json:"wide"`
	}
	must(d.eval(measureWidths, &phone))
	var metrics struct {
		Content struct{ Height float64 } `json:"cssContentSize"`
	}
	must(d.call("Page.getLayoutMetrics", nil, &metrics))
	var shot struct{ Data string }
	must(d.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": phoneWidth, "height": metrics.Content.Height, "scale": 1}}, &shot))
	writeBase64(t, filepath.Join(dir, name+"-phone.png"), shot.Data)

	must(d.call("Emulation.clearDeviceMetricsOverride", nil, nil))
	var pdf struct{ Data string }
	must(d.call("Page.printToPDF", map[string]any{"preferCSSPageSize": true, "displayHeaderFooter": false,
		"generateTaggedPDF": true, "printBackground": true}, &pdf))
	raw := writeBase64(t, filepath.Join(dir, name+".pdf"), pdf.Data)
	if !bytes.HasPrefix(raw, []byte("%PDF-")) {
		t.Fatalf("%s: no PDF from chromium", name)
	}
	// The print CSS asks for A4 (595 x 842 points).
	if !regexp.MustCompile(`/MediaBox\s*\[\s*0 0 59[45]\.?\d* 84[12]`).Match(raw) {
		t.Errorf("%s.pdf is not A4", name)
	}
	paper, err := readPDFLayout(raw)
	if err != nil {
		t.Fatalf("%s.pdf: %v", name, err)
	}
	paper.Title = pdfDocTitle(raw)
	paper.PhoneLayout, paper.ScrollWidth, paper.Wide = phone.Width, phone.ScrollWidth, phone.Wide
	return paper
}

// readable fails the test where the document does not read well: sideways scrolling or a
// too-wide element on the phone, a row or heading split over pages, a heading left at the foot
// of a page, or more pages than maxPages (0: any number).
func readable(t *testing.T, name string, l docLayout, maxPages int) {
	t.Helper()
	t.Logf("%s: %d A4 pages; on a %d px phone the layout is %d px wide, the page %d px", name, l.Pages, phoneWidth, l.PhoneLayout, l.ScrollWidth)
	if l.PhoneLayout != phoneWidth {
		t.Errorf("%s is laid out %d px wide on a %d px phone (no viewport declared?): a person reads it shrunk", name, l.PhoneLayout, phoneWidth)
	}
	if l.ScrollWidth > l.PhoneLayout || len(l.Wide) > 0 {
		t.Errorf("%s scrolls sideways on a %d px phone (page %d px wide); wider than the screen:\n  %s", name, phoneWidth, l.ScrollWidth, strings.Join(l.Wide, "\n  "))
	}
	if len(l.Split) > 0 {
		t.Errorf("%s.pdf splits over pages: %s", name, strings.Join(l.Split, "; "))
	}
	if len(l.Stranded) > 0 {
		t.Errorf("%s.pdf leaves headings at the foot of a page: %s", name, strings.Join(l.Stranded, "; "))
	}
	if maxPages > 0 && l.Pages > maxPages {
		t.Errorf("%s.pdf has %d A4 pages, at most %d expected", name, l.Pages, maxPages)
	}
}

func writeBase64(t *testing.T, path, data string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(data)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pdfDocTitle is the document title Chromium wrote into the PDF, from the page it rendered.
func pdfDocTitle(raw []byte) string {
	m := pdfTitle.FindSubmatch(raw)
	switch {
	case m == nil:
		return ""
	case m[1] != nil:
		return strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(string(m[1]))
	}
	b, _ := hex.DecodeString(string(m[2]))
	if len(b) < 2 || b[0] != 0xFE || b[1] != 0xFF {
		return ""
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 2; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

// pdfRef is an indirect reference, "12 0 R".
type pdfRef int

// pdfName is a name, "/TR" (without the slash).
type pdfName string

// pdfObjects reads the objects of a PDF with a classic cross-reference table (as Chromium
// writes it): number -> value (a stream's dictionary, without its data).
func pdfObjects(raw []byte) (map[int]any, any, error) {
	i := bytes.LastIndex(raw, []byte("startxref"))
	if i < 0 {
		return nil, nil, errors.New("no startxref")
	}
	var xref int
	if _, err := fmt.Sscan(string(raw[i+len("startxref"):]), &xref); err != nil || xref >= len(raw) || !bytes.HasPrefix(raw[xref:], []byte("xref")) {
		return nil, nil, errors.New("no classic cross-reference table")
	}
	sc := bufio.NewScanner(bytes.NewReader(raw[xref+len("xref"):]))
	objects := map[int]any{}
	var trailer any
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "trailer") {
			p := &pdfParser{b: raw, i: bytes.Index(raw[xref:], []byte("trailer")) + xref + len("trailer")}
			trailer = p.value()
			break
		}
		var first, count int
		if _, err := fmt.Sscan(line, &first, &count); err != nil {
			return nil, nil, fmt.Errorf("cross-reference table: %q", line)
		}
		for n := first; n < first+count && sc.Scan(); n++ {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[2] != "n" {
				continue
			}
			off, _ := strconv.Atoi(f[0])
			p := &pdfParser{b: raw, i: off}
			if p.int() != n || p.int() < 0 || p.word() != "obj" {
				return nil, nil, fmt.Errorf("object %d is not at %d", n, off)
			}
			objects[n] = p.value()
		}
	}
	if trailer == nil {
		return nil, nil, errors.New("no trailer")
	}
	return objects, trailer, nil
}

// pdfParser reads PDF values: just enough of the syntax for dictionaries, arrays, names,
// numbers, references and strings.
type pdfParser struct {
	b []byte
	i int
}

func (p *pdfParser) space() {
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '%':
			for p.i < len(p.b) && p.b[p.i] != '\n' && p.b[p.i] != '\r' {
				p.i++
			}
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			p.i++
		default:
			return
		}
	}
}

func delimiter(c byte) bool { return strings.IndexByte(" \t\r\n\f\x00()<>[]{}/%", c) >= 0 }

func (p *pdfParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.b) && !delimiter(p.b[p.i]) {
		p.i++
	}
	return string(p.b[start:p.i])
}

func (p *pdfParser) int() int {
	n, err := strconv.Atoi(p.word())
	if err != nil {
		return -1
	}
	return n
}

func (p *pdfParser) value() any {
	p.space()
	if p.i >= len(p.b) {
		return nil
	}
	switch c := p.b[p.i]; {
	case c == '/':
		p.i++
		start := p.i
		for p.i < len(p.b) && !delimiter(p.b[p.i]) {
			p.i++
		}
		return pdfName(p.b[start:p.i])
	case c == '<' && p.i+1 < len(p.b) && p.b[p.i+1] == '<':
		p.i += 2
		d := map[string]any{}
		for {
			p.space()
			if p.i+1 >= len(p.b) || (p.b[p.i] == '>' && p.b[p.i+1] == '>') {
				p.i += 2
				return d
			}
			key, ok := p.value().(pdfName)
			if !ok {
				return d
			}
			d[string(key)] = p.value()
		}
	case c == '<':
		end := bytes.IndexByte(p.b[p.i:], '>')
		if end < 0 {
			p.i = len(p.b)
			return ""
		}
		s := string(p.b[p.i+1 : p.i+end])
		p.i += end + 1
		return s
	case c == '[':
		p.i++
		var a []any
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] == ']' {
				p.i++
				return a
			}
			a = append(a, p.value())
		}
	case c == '(':
		depth, start := 0, p.i
		for ; p.i < len(p.b); p.i++ {
			switch p.b[p.i] {
			case '\\':
				p.i++
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				p.i++
				return string(p.b[start+1 : p.i-1])
			}
		}
		return ""
	case c == ']' || c == '>' || c == ')':
		p.i++ // malformed; move on
		return nil
	}
	w := p.word()
	if n, err := strconv.Atoi(w); err == nil {
		// "12 0 R" is a reference; look ahead without consuming anything else.
		save := p.i
		if g := p.word(); g != "" && strings.Trim(g, "0123456789") == "" && p.word() == "R" {
			return pdfRef(n)
		}
		p.i = save
		return n
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil {
		return f
	}
	return w
}

// readPDFLayout reads where a tagged PDF's content landed: the number of pages; the rows
// (TR, not a repeated table header), list items (LI) and headings (H1-H6) whose content is on
// more than one page; and the headings after which the next content starts on another page.
func readPDFLayout(raw []byte) (docLayout, error) {
	var l docLayout
	objects, trailer, err := pdfObjects(raw)
	if err != nil {
		return l, err
	}
	dict := func(v any) map[string]any {
		if r, ok := v.(pdfRef); ok {
			v = objects[int(r)]
		}
		d, _ := v.(map[string]any)
		return d
	}
	root := dict(dict(trailer)["Root"])
	// Pages in order, from the page tree.
	pageNo := map[pdfRef]int{}
	var walkPages func(v any)
	walkPages = func(v any) {
		node := dict(v)
		if node["Type"] == pdfName("Page") {
			if r, ok := v.(pdfRef); ok {
				pageNo[r] = len(pageNo) + 1
			}
			return
		}
		kids, _ := node["Kids"].([]any)
		for _, k := range kids {
			walkPages(k)
		}
	}
	walkPages(root["Pages"])
	l.Pages = len(pageNo)
	tree := dict(root["StructTreeRoot"])
	if tree == nil {
		return l, errors.New("not a tagged PDF (no structure tree)")
	}

	// Walk the structure tree in reading order: every piece of marked content with its page,
	// and every element with the span of pieces under it.
	type element struct {
		tag         string
		n           int  // the n-th element of its tag
		first, last int  // indexes into pages
		header      bool // under a THead, or a row of TH cells only: repeated on each page
		kids        []string
	}
	var pages []int
	var elements []*element
	counts := map[string]int{}
	var walk func(v any, page int, header bool, open []*element)
	walk = func(v any, page int, header bool, open []*element) {
		switch k := v.(type) {
		case int: // a marked-content id on the element's page
			pages = append(pages, page)
		case []any:
			for _, c := range k {
				walk(c, page, header, open)
			}
		case pdfRef, map[string]any:
			d := dict(k)
			if pg, ok := d["Pg"].(pdfRef); ok {
				page = pageNo[pg]
			}
			switch d["Type"] {
			case pdfName("MCR"), pdfName("OBJR"):
				pages = append(pages, page)
				return
			}
			tag, _ := d["S"].(pdfName)
			header = header || tag == "THead"
			counts[string(tag)]++
			e := &element{tag: string(tag), n: counts[string(tag)], first: len(pages), header: header}
			if len(open) > 0 {
				parent := open[len(open)-1]
				parent.kids = append(parent.kids, e.tag)
			}
			walk(d["K"], page, header, append(open, e))
			e.last = len(pages) - 1
			if e.tag == "TR" && len(e.kids) > 0 && !slices.ContainsFunc(e.kids, func(k string) bool { return k != "TH" }) {
				e.header = true
			}
			elements = append(elements, e)
		}
	}
	walk(tree["K"], 0, false, nil)
	ordinal := func(e *element) string { return fmt.Sprintf("%s no. %d", e.tag, e.n) }
	for _, e := range elements {
		if e.last < e.first {
			continue // no content of its own
		}
		heading := regexp.MustCompile(`^H[1-6]$`).MatchString(e.tag)
		if (e.tag == "TR" && !e.header) || e.tag == "LI" || heading {
			if pages[e.first] != pages[e.last] {
				l.Split = append(l.Split, fmt.Sprintf("%s on pages %d-%d", ordinal(e), pages[e.first], pages[e.last]))
			}
		}
		if heading && e.last+1 < len(pages) && pages[e.last+1] != pages[e.last] {
			l.Stranded = append(l.Stranded, fmt.Sprintf("%s at the foot of page %d", ordinal(e), pages[e.last]))
		}
	}
	return l, nil
}

// The checks can fail: a table wider than a phone, a list item longer than a page and a heading
// pushed to the foot of a page by a block that will not split are each found.
func TestReadableChecksFail(t *testing.T) {
	long := strings.Repeat("Een regel tekst die doorloopt. ", 400)
	html := `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Proef</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>@page { size: A4; margin: 18mm; } .block { height: 240mm; break-inside: avoid; }</style></head><body>
<table><tr><td>kolom</td><td style="white-space: nowrap">een cel die niet afbreekt en dus breder is dan het scherm van een telefoon</td></tr></table>
<ul><li>` + long + `</li></ul>
<div class="block">Een blok dat niet splitst.</div>
<h2>Kop onderaan</h2>
<div class="block">Nog een blok dat niet splitst.</div>
</body></html>`
	l := readDocument(t, "readable-check-proof", html)
	if l.Title != "Proef" || l.PhoneLayout != phoneWidth {
		t.Fatalf("the proof did not render: %+v", l)
	}
	if l.ScrollWidth <= phoneWidth || len(l.Wide) == 0 || !strings.Contains(strings.Join(l.Wide, "\n"), "td") {
		t.Errorf("the wide cell was not found: %+v", l)
	}
	if !strings.Contains(strings.Join(l.Split, ";"), "LI no. 1") {
		t.Errorf("the long list item was not found split: %+v", l.Split)
	}
	if !strings.Contains(strings.Join(l.Stranded, ";"), "H2 no. 1") {
		t.Errorf("the heading at the foot of a page was not found: %+v (split %v, %d pages)", l.Stranded, l.Split, l.Pages)
	}
}
