package wvsoft

import (
	"strings"
	"testing"
	"time"
)

// Durations are said in days and years, never as Go durations.
func TestDurationInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "1 dag", 30 * 24 * time.Hour: "30 dagen", 90 * 24 * time.Hour: "90 dagen", 730 * 24 * time.Hour: "2 jaar",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, r := range RetentionRules(DefaultRetention()) {
		if strings.Contains(r.Kept+r.KeptNL, "h0m") {
			t.Errorf("%s: %q / %q", r.Name, r.Kept, r.KeptNL)
		}
	}
}

// The greeting uses the salutation and the name; the breach letter says what, which
// categories, what to do and when the 72 hours run out.
func TestGreetingAndBreachLetter(t *testing.T) {
	dhr, mw, name := "DHR", "MW", "Jan de Vries"
	for _, c := range []struct {
		sal, name *string
		want      string
	}{{&dhr, &name, "Geachte heer Jan de Vries,"}, {&mw, &name, "Geachte mevrouw Jan de Vries,"}, {nil, &name, "Beste Jan de Vries,"}, {nil, nil, "Geachte heer, mevrouw,"}} {
		if got := Greeting(c.sal, c.name); got != c.want {
			t.Errorf("Greeting = %q, want %q", got, c.want)
		}
	}
	informed := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	l := BreachLetter(&Breach{Description: "Laptop gestolen", DiscoveredAt: informed.Add(-time.Hour), Categories: []string{"CONTACT", "HEALTH"}}, "Bakkerij", informed)
	for _, want := range []string{"Laptop gestolen", "contactgegevens, gezondheid (bijzonder)", "maandag 30 november 2026 om 09:00", "Wat u moet doen"} {
		if !strings.Contains(l.Body, want) {
			t.Errorf("the breach letter lacks %q:\n%s", want, l.Body)
		}
	}
}
