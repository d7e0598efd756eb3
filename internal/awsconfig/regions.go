package awsconfig

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Region is an AWS region: its code and the display name that the AWS
// console shows for it.
type Region struct {
	Code string
	Name string
}

// Regions lists the regions of the aws, aws-cn and aws-us-gov partitions,
// with the descriptions of the partition metadata in aws-sdk-go-v2 v1.48.0
// (internal/endpoints/awsrulesfn/partitions.json).
var Regions = []Region{
	{"us-east-1", "US East (N. Virginia)"},
	{"us-east-2", "US East (Ohio)"},
	{"us-west-1", "US West (N. California)"},
	{"us-west-2", "US West (Oregon)"},
	{"af-south-1", "Africa (Cape Town)"},
	{"ap-east-1", "Asia Pacific (Hong Kong)"},
	{"ap-east-2", "Asia Pacific (Taipei)"},
	{"ap-northeast-1", "Asia Pacific (Tokyo)"},
	{"ap-northeast-2", "Asia Pacific (Seoul)"},
	{"ap-northeast-3", "Asia Pacific (Osaka)"},
	{"ap-south-1", "Asia Pacific (Mumbai)"},
	{"ap-south-2", "Asia Pacific (Hyderabad)"},
	{"ap-southeast-1", "Asia Pacific (Singapore)"},
	{"ap-southeast-2", "Asia Pacific (Sydney)"},
	{"ap-southeast-3", "Asia Pacific (Jakarta)"},
	{"ap-southeast-4", "Asia Pacific (Melbourne)"},
	{"ap-southeast-5", "Asia Pacific (Malaysia)"},
	{"ap-southeast-6", "Asia Pacific (New Zealand)"},
	{"ap-southeast-7", "Asia Pacific (Thailand)"},
	{"ca-central-1", "Canada (Central)"},
	{"ca-west-1", "Canada West (Calgary)"},
	{"eu-central-1", "Europe (Frankfurt)"},
	{"eu-central-2", "Europe (Zurich)"},
	{"eu-north-1", "Europe (Stockholm)"},
	{"eu-south-1", "Europe (Milan)"},
	{"eu-south-2", "Europe (Spain)"},
	{"eu-west-1", "Europe (Ireland)"},
	{"eu-west-2", "Europe (London)"},
	{"eu-west-3", "Europe (Paris)"},
	{"il-central-1", "Israel (Tel Aviv)"},
	{"me-central-1", "Middle East (UAE)"},
	{"me-south-1", "Middle East (Bahrain)"},
	{"me-west-1", "Middle East (Saudi Arabia)"},
	{"mx-central-1", "Mexico (Central)"},
	{"sa-east-1", "South America (Sao Paulo)"},
	{"sa-west-1", "South America (Chile)"},
	{"cn-north-1", "China (Beijing)"},
	{"cn-northwest-1", "China (Ningxia)"},
	{"us-gov-east-1", "AWS GovCloud (US-East)"},
	{"us-gov-west-1", "AWS GovCloud (US-West)"},
}

// Display names that AWS used before, mapped to region codes. AWS renamed
// "EU (...)" to "Europe (...)", and every "Europe (...)" name is also
// accepted as "EU (...)" without a line here.
var oldRegionNames = map[string]string{
	"AWS GovCloud (US)":          "us-gov-west-1",
	"Asia Pacific (Osaka-Local)": "ap-northeast-3",
	"South America (São Paulo)":  "sa-east-1",
}

var (
	regionByCode = map[string]string{} // lower-case code to code
	regionByName = map[string]string{} // normalized display name to code
)

func init() {
	for _, r := range Regions {
		regionByCode[r.Code] = r.Code
		regionByName[normalizeRegionName(r.Name)] = r.Code
		if rest, ok := strings.CutPrefix(r.Name, "Europe ("); ok {
			regionByName[normalizeRegionName("EU ("+rest)] = r.Code
		}
	}
	for name, code := range oldRegionNames {
		regionByName[normalizeRegionName(name)] = code
	}
}

// accentFolder replaces the accented letters of region names with plain ones.
var accentFolder = strings.NewReplacer("ã", "a", "á", "a", "é", "e", "ü", "u", "ç", "c")

// normalizeRegionName folds case, runs of white space and accents, so that
// "south america  (são paulo)" matches "South America (Sao Paulo)".
func normalizeRegionName(name string) string {
	folded := accentFolder.Replace(strings.ToLower(name))
	return strings.Join(strings.Fields(folded), " ")
}

// ResolveRegion returns the region code for a region code ("eu-west-3") or a
// display name ("Europe (Paris)" or the older "EU (Paris)"), ignoring
// surrounding white space and case.
func ResolveRegion(name string) (string, error) {
	trimmed := strings.TrimSpace(name)
	if trimmed == "" {
		return "", fmt.Errorf("the region is empty; give a region code such as us-east-1 or a name such as \"US East (N. Virginia)\"")
	}
	if code, ok := regionByCode[strings.ToLower(trimmed)]; ok {
		return code, nil
	}
	if code, ok := regionByName[normalizeRegionName(trimmed)]; ok {
		return code, nil
	}

	// The full list of codes is long, so it comes only when there is no
	// guess.
	quoted := quoteShort(trimmed)
	if guess := suggestRegion(trimmed); guess != "" {
		return "", fmt.Errorf("unknown region %s; did you mean %s?", quoted, guess)
	}
	return "", fmt.Errorf("unknown region %s; use a region code or the region's name as the AWS console shows it. Valid region codes: %s", quoted, strings.Join(regionCodes(), ", "))
}

func regionCodes() []string {
	codes := make([]string, 0, len(Regions))
	for _, r := range Regions {
		codes = append(codes, r.Code)
	}
	sort.Strings(codes)
	return codes
}

// availabilityZone matches an Availability Zone name such as us-east-1a,
// whose region is the name without its last letter.
var availabilityZone = regexp.MustCompile(`^([a-z]+(?:-[a-z]+)+-\d+)[a-z]$`)

// suggestRegion returns the region code that the mistyped name most likely
// means, or "" when no code is close.
func suggestRegion(name string) string {
	if len(name) > 64 {
		return ""
	}
	s := strings.ToLower(name)
	s = strings.NewReplacer("_", "-", " ", "-").Replace(s)
	if code, ok := regionByCode[s]; ok {
		return code
	}
	if m := availabilityZone.FindStringSubmatch(s); m != nil {
		if code, ok := regionByCode[m[1]]; ok {
			return code
		}
	}

	// Otherwise the one region whose code or name is within two edits.
	best, bestDistance, ties := "", 3, 0
	consider := func(candidate, input, code string) {
		d := editDistance(candidate, input)
		switch {
		case d < bestDistance:
			best, bestDistance, ties = code, d, 0
		case d == bestDistance && code != best:
			ties++
		}
	}
	for _, r := range Regions {
		consider(r.Code, s, r.Code)
	}
	normalized := normalizeRegionName(name)
	for key, code := range regionByName {
		consider(key, normalized, code)
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quoteShort quotes a value for an error message, cut to 64 bytes so that a
// long value does not flood the message.
func quoteShort(s string) string {
	const limit = 64
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
