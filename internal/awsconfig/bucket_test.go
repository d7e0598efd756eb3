package awsconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckBucketName(t *testing.T) {
	for _, good := range []string{"soar-ssm-output", "abc", "my.output.bucket", "a1-b2"} {
		assert.NoError(t, CheckBucketName(good), good)
	}
	for bad, want := range map[string]string{
		"s3://my-output":   "without s3://",
		"my-output/prefix": "without s3:// or a key prefix",
		"Bad_Bucket":       "lowercase letters",
		"ab":               "3 to 63",
		"-start":           "starting and ending",
		"my..bucket":       "two dots",
		"192.168.5.4":      "IP address",
		"xn--bucket":       "prefix xn--",
		"logs--ol-s3":      "suffix --ol-s3",
		"a-very-long-name-that-goes-on-and-on-well-past-the-sixty-three-limit": "3 to 63",
	} {
		err := CheckBucketName(bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), want, bad)
		}
	}
}

func TestValidateAssetRejectsBucketName(t *testing.T) {
	err := ValidateAsset(Asset{Region: "us-east-1", DefaultS3Bucket: "s3://my-output"})
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "default_s3_bucket")
	}
}
