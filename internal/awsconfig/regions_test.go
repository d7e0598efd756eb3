package awsconfig

import (
	"strings"
	"testing"
)

// The value list of the region field of the existing SOAR app's asset
// configuration, which assets in use carry, with the code each means.
var soarAppRegionNames = map[string]string{
	"US East (Ohio)":            "us-east-2",
	"US East (N. Virginia)":     "us-east-1",
	"US West (N. California)":   "us-west-1",
	"US West (Oregon)":          "us-west-2",
	"Asia Pacific (Hong Kong)":  "ap-east-1",
	"Asia Pacific (Mumbai)":     "ap-south-1",
	"Asia Pacific (Seoul)":      "ap-northeast-2",
	"Asia Pacific (Singapore)":  "ap-southeast-1",
	"Asia Pacific (Sydney)":     "ap-southeast-2",
	"Asia Pacific (Tokyo)":      "ap-northeast-1",
	"Canada (Central)":          "ca-central-1",
	"China (Beijing)":           "cn-north-1",
	"China (Ningxia)":           "cn-northwest-1",
	"EU (Frankfurt)":            "eu-central-1",
	"EU (Ireland)":              "eu-west-1",
	"EU (London)":               "eu-west-2",
	"EU (Paris)":                "eu-west-3",
	"EU (Stockholm)":            "eu-north-1",
	"South America (Sao Paulo)": "sa-east-1",
	"AWS GovCloud (US-East)":    "us-gov-east-1",
	"AWS GovCloud (US)":         "us-gov-west-1",
}

func TestResolveRegionSOARAppNames(t *testing.T) {
	for name, want := range soarAppRegionNames {
		// The old app's table had a leading tab on some names.
		for _, input := range []string{name, "\t" + name, "  " + name + " \n"} {
			got, err := ResolveRegion(input)
			if err != nil {
				t.Errorf("ResolveRegion(%q): %v", input, err)
				continue
			}
			if got != want {
				t.Errorf("ResolveRegion(%q) = %q, want %q", input, got, want)
			}
		}
	}
}

func TestResolveRegionCodesAndNames(t *testing.T) {
	for _, r := range Regions {
		for _, input := range []string{r.Code, strings.ToUpper(r.Code), "\t" + r.Code, r.Name, strings.ToLower(r.Name)} {
			got, err := ResolveRegion(input)
			if err != nil {
				t.Errorf("ResolveRegion(%q): %v", input, err)
				continue
			}
			if got != r.Code {
				t.Errorf("ResolveRegion(%q) = %q, want %q", input, got, r.Code)
			}
		}
	}
}

func TestResolveRegionCurrentCodes(t *testing.T) {
	// The commercial, China and GovCloud regions known when this list was
	// written; a missing one means Regions lost an entry.
	codes := []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
		"af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
		"cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
	}
	for _, code := range codes {
		if got, err := ResolveRegion(code); err != nil || got != code {
			t.Errorf("ResolveRegion(%q) = %q, %v", code, got, err)
		}
	}
}

func TestResolveRegionOtherNames(t *testing.T) {
	cases := map[string]string{
		"Europe (Paris)":                 "eu-west-3",
		"EU (Milan)":                     "eu-south-1",
		"eu  (zurich)":                   "eu-central-2",
		"South America (São Paulo)":      "sa-east-1",
		"Asia Pacific (Osaka-Local)":     "ap-northeast-3",
		"AWS GovCloud (US-West)":         "us-gov-west-1",
		"\tUS East (N. Virginia)\t":      "us-east-1",
		"Middle East (UAE)":              "me-central-1",
		"  Canada West (Calgary)":        "ca-west-1",
		"Asia Pacific (New Zealand)\r\n": "ap-southeast-6",
	}
	for input, want := range cases {
		got, err := ResolveRegion(input)
		if err != nil {
			t.Errorf("ResolveRegion(%q): %v", input, err)
			continue
		}
		if got != want {
			t.Errorf("ResolveRegion(%q) = %q, want %q", input, got, want)
		}
	}
}

func TestResolveRegionRejects(t *testing.T) {
	cases := []struct {
		input      string
		suggestion string // "" when no suggestion is expected
	}{
		{"us_east_1", "us-east-1"},
		{"us-east-1a", "us-east-1"},
		{"EU-WEST-3B", "eu-west-3"},
		{"us east 2", "us-east-2"},
		{"eu-wset-1", "eu-west-1"},
		{"Europe (Pariss)", "eu-west-3"},
		{"US East (Virginia)", ""},
		{"eu-west-9", ""}, // as close to eu-west-1 as to eu-west-2 and eu-west-3
		{"Mars (Olympus Mons)", ""},
		{"global", ""},
	}
	for _, c := range cases {
		_, err := ResolveRegion(c.input)
		if err == nil {
			t.Errorf("ResolveRegion(%q) succeeded, want an error", c.input)
			continue
		}
		msg := err.Error()
		// The list of valid codes comes only when there is no guess.
		listsCodes := strings.Contains(msg, "eu-west-3, il-central-1")
		if c.suggestion == "" && !listsCodes {
			t.Errorf("ResolveRegion(%q) error does not list the valid codes: %s", c.input, msg)
		}
		if c.suggestion != "" && listsCodes {
			t.Errorf("ResolveRegion(%q) error lists the valid codes beside its guess: %s", c.input, msg)
		}
		hasSuggestion := strings.Contains(msg, "did you mean")
		switch {
		case c.suggestion == "" && hasSuggestion:
			t.Errorf("ResolveRegion(%q) error suggests a region, want none: %s", c.input, msg)
		case c.suggestion != "" && !strings.Contains(msg, "did you mean "+c.suggestion+"?"):
			t.Errorf("ResolveRegion(%q) error does not suggest %s: %s", c.input, c.suggestion, msg)
		}
	}
}

func TestResolveRegionEmpty(t *testing.T) {
	for _, input := range []string{"", " \t "} {
		_, err := ResolveRegion(input)
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("ResolveRegion(%q) error = %v, want one that says it is empty", input, err)
		}
	}
}

func TestResolveRegionLongInput(t *testing.T) {
	long := strings.Repeat("x", 10000)
	_, err := ResolveRegion(long)
	if err == nil {
		t.Fatal("ResolveRegion of a long value succeeded")
	}
	if strings.Contains(err.Error(), strings.Repeat("x", 100)) {
		t.Errorf("error repeats the long value: %.200s", err)
	}
}
