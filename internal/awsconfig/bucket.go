package awsconfig

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// bucketNamePattern is S3's rule for general purpose bucket names: 3 to 63
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Prefixes and suffixes that S3 reserves for its own bucket kinds.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// CheckBucketName returns an error that describes what is wrong with an S3
// bucket name, or nil when S3 would accept it. The rules are those of
// general purpose buckets in the Amazon S3 User Guide ("General purpose
// bucket naming rules").
func CheckBucketName(name string) error {
	switch {
	case strings.HasPrefix(name, "s3://") || strings.Contains(name, "/"):
		return fmt.Errorf("%s is not a bucket name: give the name only, without s3:// or a key prefix", quoteShort(name))
	case !bucketNamePattern.MatchString(name):
		return fmt.Errorf("%s is not a valid S3 bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", quoteShort(name))
	case strings.Contains(name, ".."):
		return fmt.Errorf("%s is not a valid S3 bucket name: it has two dots in a row", quoteShort(name))
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("%s is not a valid S3 bucket name: it has the form of an IP address", quoteShort(name))
	}
	for _, prefix := range reservedBucketPrefixes {
		if strings.HasPrefix(name, prefix) {
			return fmt.Errorf("%s is not a valid S3 bucket name: S3 reserves the prefix %s", quoteShort(name), prefix)
		}
	}
	for _, suffix := range reservedBucketSuffixes {
		if strings.HasSuffix(name, suffix) {
			return fmt.Errorf("%s is not a valid S3 bucket name: S3 reserves the suffix %s", quoteShort(name), suffix)
		}
	}
	return nil
}
