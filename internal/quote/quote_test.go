package quote

import (
	"os/exec"
	"strings"
	"testing"
)

// shRoundTrip runs printf through /bin/sh with s quoted by Sh and returns
// what the shell printed: the argument exactly as sh received it.
func shRoundTrip(t *testing.T, s string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+Sh(s)).Output()
	if err != nil {
		t.Fatalf("sh failed for %q: %v", s, err)
	}
	return string(out)
}

func TestShKeepsHostileStringsLiteral(t *testing.T) {
	cases := []string{
		"plain",
		"with space",
		"it's",
		"''",
		`'\''`,
		"$(touch /tmp/awsssm-quote-pwned)",
		"`id`",
		"a; echo second",
		"a && b || c | d > e < f",
		`back\slash "double" $HOME ${HOME} *?[a-z]`,
		"tab\there",
		"-n",
		"~root",
		"!event",
		"üñí €",
	}
	for _, c := range cases {
		if got := shRoundTrip(t, c); got != c {
			t.Errorf("Sh(%q) reached sh as %q", c, got)
		}
	}
}

func TestShRunsNoSecondCommand(t *testing.T) {
	marker := t.TempDir() + "/pwned"
	for _, attack := range []string{
		"x'; touch " + marker + "; echo '",
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"x\\'; touch " + marker + " #",
	} {
		shRoundTrip(t, attack)
	}
	if out, err := exec.Command("/bin/sh", "-c", "test -e "+Sh(marker)+" && echo found").Output(); err == nil && strings.Contains(string(out), "found") {
		t.Fatalf("a quoted argument ran a command: %s exists", marker)
	}
}

func TestPowerShellDoublesEveryQuoteCharacter(t *testing.T) {
	cases := map[string]string{
		`C:\Temp\a.txt`:      `'C:\Temp\a.txt'`,
		"it's":               `'it''s'`,
		"smart\u2019quote":   "'smart\u2019\u2019quote'",
		"\u2018\u201a\u201b": "'\u2018\u2018\u201a\u201a\u201b\u201b'",
		"$(Remove-Item x)":   "'$(Remove-Item x)'",
		"`n":                 "'`n'",
	}
	for in, want := range cases {
		if got := PowerShell(in); got != want {
			t.Errorf("PowerShell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckPathRejectsLineBreaksAndNUL(t *testing.T) {
	bad := []string{"", "a\nb", "a\rb", "a\x00b", "a\u2028b", "a\u2029b", "a\u0085b", "\xff"}
	for _, p := range bad {
		if err := CheckPath(p); err == nil {
			t.Errorf("CheckPath(%q) accepted it", p)
		}
	}
	good := []string{"/tmp/a b/it's $(x); y", `C:\Users\x\file.txt`, "/tmp/tab\tname"}
	for _, p := range good {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v", p, err)
		}
	}
}

func FuzzSh(f *testing.F) {
	f.Add("it's $(x); `y`")
	f.Add("'\\''")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			t.Skip("sh arguments cannot contain NUL")
		}
		if got := shRoundTrip(t, s); got != s {
			t.Fatalf("Sh(%q) reached sh as %q", s, got)
		}
	})
}
