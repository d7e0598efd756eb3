package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestS3CreateBucketRegions(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()

	east := ts.s3Client(exampleKeyProvider(), "us-east-1")
	if _, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("east-bucket")}); err != nil {
		t.Fatalf("CreateBucket in us-east-1: %v", err)
	}
	west := ts.s3Client(exampleKeyProvider(), "eu-west-1")
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                    aws.String("west-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1},
	}); err != nil {
		t.Fatalf("CreateBucket in eu-west-1: %v", err)
	}

	for bucket, want := range map[string]string{"east-bucket": "us-east-1", "west-bucket": "eu-west-1"} {
		if got, ok := ts.srv.BucketRegion(bucket); !ok || got != want {
			t.Errorf("BucketRegion(%s) = %q, %v; want %q", bucket, got, ok, want)
		}
	}
	if _, ok := ts.srv.BucketRegion("no-such-bucket"); ok {
		t.Error("BucketRegion reports a bucket that does not exist")
	}

	head, err := west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("west-bucket")})
	if err != nil {
		t.Fatalf("HeadBucket: %v", err)
	}
	if got := aws.ToString(head.BucketRegion); got != "eu-west-1" {
		t.Errorf("HeadBucket BucketRegion = %q, want eu-west-1", got)
	}

	location, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("west-bucket")})
	if err != nil {
		t.Fatalf("GetBucketLocation of west-bucket: %v", err)
	}
	if location.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Errorf("LocationConstraint = %q, want eu-west-1", location.LocationConstraint)
	}
	location, err = east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("east-bucket")})
	if err != nil {
		t.Fatalf("GetBucketLocation of east-bucket: %v", err)
	}
	if location.LocationConstraint != "" {
		t.Errorf("LocationConstraint of a us-east-1 bucket = %q, want empty", location.LocationConstraint)
	}
	_, err = east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("no-such-bucket")})
	wantAWSError(t, err, "NoSuchBucket")
}

func TestS3CreateBucketRejections(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("taken-bucket", "us-east-1"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, region, bucket string
		constraint           types.BucketLocationConstraint
		wantCode             string
		wantStatus           int
	}{
		{"us-east-1 named as constraint", "us-east-1", "b-one", "us-east-1", "InvalidLocationConstraint", 400},
		{"other region without constraint", "eu-west-1", "b-two", "", "IllegalLocationConstraintException", 400},
		{"constraint differs from signing region", "eu-west-1", "b-three", types.BucketLocationConstraintEuCentral1, "IllegalLocationConstraintException", 400},
		{"us-east-1 with other constraint", "us-east-1", "b-four", types.BucketLocationConstraintEuWest1, "IllegalLocationConstraintException", 400},
		{"existing bucket", "us-east-1", "taken-bucket", "", "BucketAlreadyOwnedByYou", 409},
		{"invalid name", "us-east-1", "Bad_Bucket", "", "InvalidBucketName", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := &s3.CreateBucketInput{Bucket: aws.String(tt.bucket)}
			if tt.constraint != "" {
				input.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: tt.constraint}
			}
			_, err := ts.s3Client(exampleKeyProvider(), tt.region).CreateBucket(ctx, input)
			wantAWSError(t, err, tt.wantCode)
			var respErr *smithyhttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tt.wantStatus {
				t.Errorf("status of %v is not %d", err, tt.wantStatus)
			}
			if tt.bucket != "taken-bucket" {
				if _, ok := ts.srv.BucketRegion(tt.bucket); ok {
					t.Errorf("bucket %s was created", tt.bucket)
				}
			}
		})
	}

	var alreadyOwned *types.BucketAlreadyOwnedByYou
	_, err := ts.s3Client(exampleKeyProvider(), "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("taken-bucket")})
	if !errors.As(err, &alreadyOwned) {
		t.Errorf("got %T, want *types.BucketAlreadyOwnedByYou", err)
	}
}

func TestS3BucketChecks(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("owned-bucket", "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	west := ts.s3Client(exampleKeyProvider(), "eu-west-1")

	_, err := west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("owned-bucket"), ExpectedBucketOwner: aws.String("123456789012")})
	if err != nil {
		t.Fatalf("HeadBucket with the right owner: %v", err)
	}
	_, err = west.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("owned-bucket"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ExpectedBucketOwner: aws.String("210987654321"),
	})
	wantAWSError(t, err, "AccessDenied")

	// A request signed for another region than the bucket's is rejected
	// with the bucket's region, as S3 does.
	east := ts.s3Client(exampleKeyProvider(), "us-east-1", func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	_, err = east.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantAWSError(t, err, "AuthorizationHeaderMalformed")
	wantContains(t, err.Error(), "expecting 'eu-west-1'")

	_, err = west.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantAWSError(t, err, "NoSuchBucket")

	_, err = west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	var notFound *types.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("HeadBucket of a missing bucket: got %v, want NotFound", err)
	}
}

func TestS3PutAndGetLargeObject(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	client := ts.s3Client(exampleKeyProvider(), DefaultRegion)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("big-bucket")}); err != nil {
		t.Fatal(err)
	}

	const size = 20 << 20
	data := patternBytes(size)
	put, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("big-bucket"), Key: aws.String("cmd/i-0123/aws-runShellScript/stdout"), Body: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("PutObject of 20 MiB: %v", err)
	}
	if aws.ToString(put.ChecksumCRC32) == "" {
		t.Error("PutObject response lacks the CRC32 that the SDK sent")
	}
	if got := ts.srv.ObjectKeys("big-bucket"); len(got) != 1 || got[0] != "cmd/i-0123/aws-runShellScript/stdout" {
		t.Errorf("ObjectKeys = %v", got)
	}

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big-bucket"), Key: aws.String("cmd/i-0123/aws-runShellScript/stdout")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("read GetObject body: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("GetObject returned %d bytes that differ from the %d put", len(got), len(data))
	}
	if aws.ToInt64(out.ContentLength) != size {
		t.Errorf("ContentLength = %d, want %d", aws.ToInt64(out.ContentLength), size)
	}
	if aws.ToString(out.ChecksumCRC32) == "" {
		t.Error("GetObject with checksum mode on returned no CRC32")
	}

	ranged, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big-bucket"), Key: aws.String("cmd/i-0123/aws-runShellScript/stdout"), Range: aws.String("bytes=100-199")})
	if err != nil {
		t.Fatalf("ranged GetObject: %v", err)
	}
	part, _ := io.ReadAll(ranged.Body)
	ranged.Body.Close()
	if !bytes.Equal(part, data[100:200]) {
		t.Errorf("ranged GetObject returned %q", part)
	}
}

func TestS3GetObjectStreams(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("stream-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}

	// A 64 MiB object goes in through putObject and out through GetObject.
	// If either side held the object in memory, the process would allocate
	// at least its size; allow half of it for everything else.
	const size = 64 << 20
	allocated := allocatedDuring(func() {
		if err := ts.srv.putObject(ctx, "stream-bucket", "huge/stdout", io.LimitReader(patternReader{}, size)); err != nil {
			t.Fatalf("putObject: %v", err)
		}
	})
	t.Logf("putObject of %d bytes allocated %d bytes", size, allocated)
	if allocated > size/2 {
		t.Errorf("putObject of %d bytes allocated %d bytes", size, allocated)
	}

	client := ts.s3Client(exampleKeyProvider(), DefaultRegion)
	var got int64
	sum := sha256.New()
	allocated = allocatedDuring(func() {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("stream-bucket"), Key: aws.String("huge/stdout")})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		defer out.Body.Close()
		got, err = io.CopyBuffer(sum, out.Body, make([]byte, 64<<10))
		if err != nil {
			t.Fatalf("read GetObject body: %v", err)
		}
	})
	if got != size {
		t.Fatalf("GetObject returned %d bytes, want %d", got, size)
	}
	want := sha256.New()
	io.Copy(want, io.LimitReader(patternReader{}, size))
	if !bytes.Equal(sum.Sum(nil), want.Sum(nil)) {
		t.Error("GetObject content differs from what putObject wrote")
	}
	t.Logf("GetObject of %d bytes allocated %d bytes", size, allocated)
	if allocated > size/2 {
		t.Errorf("GetObject of %d bytes allocated %d bytes", size, allocated)
	}
}

// allocatedDuring returns how many bytes of heap the process allocated
// while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// patternReader produces an endless, deterministic byte sequence.
type patternReader struct{}

func (patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return len(p), nil
}

func patternBytes(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i/1000)
	}
	return data
}

func TestS3PutObjectAWSChunkedOverTLS(t *testing.T) {
	// Over HTTPS the SDK sends the body aws-chunked with the CRC32 in a
	// trailer and STREAMING-UNSIGNED-PAYLOAD-TRAILER as the payload hash.
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("tls-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	tlsServer := httptest.NewTLSServer(ts.srv)
	defer tlsServer.Close()

	var sentMode string
	cfg := ts.config(exampleKeyProvider())
	cfg.BaseEndpoint = aws.String(tlsServer.URL)
	cfg.HTTPClient = tlsServer.Client()
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, tamperAfterSigning(func(req *smithyhttp.Request) *smithyhttp.Request {
			sentMode = req.Header.Get("X-Amz-Content-Sha256")
			return req
		}))
	})

	data := patternBytes(3<<20 + 17)
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("chunked"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("PutObject over TLS: %v", err)
	}
	if sentMode != streamingUnsignedTrailer {
		t.Errorf("SDK sent payload mode %q, want %s", sentMode, streamingUnsignedTrailer)
	}

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("chunked")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("stored object has %d bytes that differ from the %d sent", len(got), len(data))
	}
	if enc := aws.ToString(out.ContentEncoding); strings.Contains(enc, "aws-chunked") {
		t.Errorf("stored Content-Encoding %q keeps aws-chunked", enc)
	}
	if aws.ToString(out.ChecksumCRC32) == "" {
		t.Error("the CRC32 from the trailer was not stored")
	}
}

// signedChunkedBody encodes data as STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// chunks of chunkSize, signed by signer, with a signed trailer when trailer
// is not empty.
func signedChunkedBody(data []byte, chunkSize int, signer *chunkSigner, trailer string) []byte {
	var body bytes.Buffer
	for offset := 0; ; offset += chunkSize {
		chunk := data[min(offset, len(data)):min(offset+chunkSize, len(data))]
		sum := sha256.Sum256(chunk)
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(chunk), signer.chunk(hex.EncodeToString(sum[:])))
		body.Write(chunk)
		if len(chunk) == 0 {
			break
		}
		body.WriteString("\r\n")
	}
	if trailer != "" {
		body.WriteString(trailer + "\r\n")
		fmt.Fprintf(&body, "x-amz-trailer-signature:%s\r\n", signer.trailer(sha256Hex([]byte(trailer+"\n"))))
	}
	body.WriteString("\r\n")
	return body.Bytes()
}

func TestS3SignedChunkedUpload(t *testing.T) {
	ts := startCore(t)
	if err := ts.srv.CreateBucket("chunk-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	data := patternBytes(200 << 10)
	crc := crc32.ChecksumIEEE(data)
	crcTrailer := "x-amz-checksum-crc32:" + base64Of(crc32Bytes(crc))

	// send signs the headers with the SDK's signer, then chunks the body
	// with the same key and the header signature as seed.
	send := func(t *testing.T, key, mode, trailer string, corrupt func([]byte) []byte) (*http.Response, string) {
		header := http.Header{
			"X-Amz-Content-Sha256":         {mode},
			"Content-Encoding":             {"aws-chunked"},
			"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(data))},
		}
		if trailer != "" {
			header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		}
		req := ts.signedRequest(t, "PUT", "/chunk-bucket/"+key, nil, header, exampleKey(), "s3", DefaultRegion)
		sig, authErr := parseSigV4(req)
		if authErr != nil {
			t.Fatal(authErr.detail)
		}
		signer := &chunkSigner{key: deriveSigningKey(ExampleSecretAccessKey, sig.ScopeDate, sig.Region, "s3"), sig: sig, previous: sig.Signature}
		body := signedChunkedBody(data, 64<<10, signer, trailer)
		if corrupt != nil {
			body = corrupt(body)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		return ts.do(t, req)
	}

	t.Run("valid chunks", func(t *testing.T) {
		resp, body := send(t, "signed", streamingSigned, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		assertObject(t, ts, "chunk-bucket", "signed", data)
	})
	t.Run("valid chunks and trailer", func(t *testing.T) {
		resp, body := send(t, "signed-trailer", streamingSignedTrailer, crcTrailer, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		assertObject(t, ts, "chunk-bucket", "signed-trailer", data)
	})
	t.Run("changed chunk data", func(t *testing.T) {
		resp, body := send(t, "forged", streamingSigned, "", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2 + 1000
			b[i] ^= 0xff
			return b
		})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if keys := ts.srv.ObjectKeys("chunk-bucket"); contains(keys, "forged") {
			t.Error("the forged object was stored")
		}
	})
	t.Run("wrong checksum in trailer", func(t *testing.T) {
		resp, body := send(t, "bad-crc", streamingSignedTrailer, "x-amz-checksum-crc32:"+base64Of(crc32Bytes(crc+1)), nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "BadDigest") {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestS3UnsignedChunkedUploadChecksums(t *testing.T) {
	ts := startCore(t)
	if err := ts.srv.CreateBucket("trailer-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	data := []byte("output of a command\n")

	send := func(t *testing.T, key, trailer string) (*http.Response, string) {
		body := fmt.Sprintf("%x\r\n%s\r\n0\r\n%s\r\n\r\n", len(data), data, trailer)
		name, _, _ := strings.Cut(trailer, ":")
		req := ts.signedRequest(t, "PUT", "/trailer-bucket/"+key, nil, http.Header{
			"X-Amz-Content-Sha256":         {streamingUnsignedTrailer},
			"Content-Encoding":             {"aws-chunked"},
			"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(data))},
			"X-Amz-Trailer":                {name},
		}, exampleKey(), "s3", DefaultRegion)
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		return ts.do(t, req)
	}

	crc64nvme := crc64.Checksum(data, crc64.MakeTable(0x9a6c9329ac4bc9b5))
	tests := []struct {
		name, trailer string
		wantStatus    int
	}{
		{"crc32", "x-amz-checksum-crc32:" + base64Of(crc32Bytes(crc32.ChecksumIEEE(data))), 200},
		{"crc32c", "x-amz-checksum-crc32c:" + base64Of(crc32Bytes(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))), 200},
		{"crc64nvme", "x-amz-checksum-crc64nvme:" + base64Of([]byte{byte(crc64nvme >> 56), byte(crc64nvme >> 48), byte(crc64nvme >> 40), byte(crc64nvme >> 32), byte(crc64nvme >> 24), byte(crc64nvme >> 16), byte(crc64nvme >> 8), byte(crc64nvme)}), 200},
		{"sha256", "x-amz-checksum-sha256:" + base64Of(sha256Sum(data)), 200},
		{"wrong crc32", "x-amz-checksum-crc32:" + base64Of(crc32Bytes(crc32.ChecksumIEEE(data)^1)), 400},
		{"malformed crc32", "x-amz-checksum-crc32:not-base64!", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, tt.name, tt.trailer)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 {
				assertObject(t, ts, "trailer-bucket", tt.name, data)
			}
		})
	}
}

func TestCRC64NVMECheckValue(t *testing.T) {
	// The standard check value of CRC-64/NVME: the CRC of "123456789".
	got := checksumAlgorithms["crc64nvme"]()
	got.Write([]byte("123456789"))
	if want := "ae8b14860a799888"; hex.EncodeToString(got.Sum(nil)) != want {
		t.Errorf("CRC-64/NVME of 123456789 = %x, want %s", got.Sum(nil), want)
	}
}

func TestS3RejectsBadChecksumHeader(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("digest-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	client := ts.s3Client(exampleKeyProvider(), DefaultRegion, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("digest-bucket"), Key: aws.String("k"), Body: strings.NewReader("content"),
		ChecksumCRC32: aws.String(base64Of(crc32Bytes(12345))),
	})
	wantAWSError(t, err, "BadDigest")
	if keys := ts.srv.ObjectKeys("digest-bucket"); len(keys) != 0 {
		t.Errorf("object stored despite the bad checksum: %v", keys)
	}
}

func TestS3ObjectMetadataLeaksNoCredentials(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("meta-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	keyID, secret, token, _ := ts.srv.IssueCredentials(10 * time.Minute)
	client := ts.s3Client(credentialsOf(keyID, secret, token), DefaultRegion)
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("meta-bucket"), Key: aws.String("k"), Body: strings.NewReader("content"),
		Metadata: map[string]string{"origin": "test"}, ContentType: aws.String("text/plain"),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	req := ts.signedRequest(t, "GET", "/meta-bucket/k", nil, http.Header{"X-Amz-Content-Sha256": {emptySHA256}}, exampleKey(), "s3", DefaultRegion)
	resp, body := ts.do(t, req)
	if resp.StatusCode != http.StatusOK || body != "content" {
		t.Fatalf("GET: status %d, body %q", resp.StatusCode, body)
	}
	for name := range resp.Header {
		switch strings.ToLower(name) {
		case "x-amz-security-token", "x-amz-date", "x-amz-content-sha256", "authorization", "x-amz-decoded-content-length":
			t.Errorf("GetObject returns stored request header %s", name)
		}
	}
	if got := resp.Header.Get("X-Amz-Meta-Origin"); got != "test" {
		t.Errorf("X-Amz-Meta-Origin = %q, want test", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", got)
	}
}

func TestS3Faults(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("fault-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.putObject(ctx, "fault-bucket", "k", strings.NewReader("content")); err != nil {
		t.Fatal(err)
	}
	client := ts.s3Client(exampleKeyProvider(), DefaultRegion)

	ts.srv.Faults().Throttle("GetObject", 1)
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject after one SlowDown: %v", err)
	}
	out.Body.Close()
	if got := ts.srv.Faults().Calls("GetObject"); got != 2 {
		t.Errorf("Calls(GetObject) = %d, want 2", got)
	}

	ts.srv.Faults().Throttle("PutObject", 5)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("p"), Body: strings.NewReader("x")},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	wantAWSError(t, err, "SlowDown")
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("SlowDown status of %v is not 503", err)
	}

	ts.srv.Faults().ServerError("HeadBucket", 1)
	_, err = client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("fault-bucket")}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusInternalServerError {
		t.Errorf("HeadBucket with a server error: got %v, want HTTP 500", err)
	}
}

func TestS3PutObjectToMissingBucket(t *testing.T) {
	ts := startCore(t)
	err := ts.srv.putObject(context.Background(), "no-such-bucket", "k", strings.NewReader("x"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "NoSuchBucket" {
		t.Fatalf("got %v, want NoSuchBucket", err)
	}
	if ts.srv.ObjectKeys("no-such-bucket") != nil {
		t.Error("ObjectKeys of a missing bucket is not nil")
	}
}

func TestS3RejectsUnstorableKeys(t *testing.T) {
	ts := startCore(t)
	if err := ts.srv.CreateBucket("key-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.CreateBucket("other-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../other-bucket/escaped", "a//b", "a/./b", "dir/"} {
		if err := ts.srv.putObject(context.Background(), "key-bucket", key, strings.NewReader("x")); err == nil {
			t.Errorf("putObject accepted key %q", key)
		}
		req := ts.signedRequest(t, "PUT", "/key-bucket/"+key, []byte("x"), http.Header{"X-Amz-Content-Sha256": {sha256Hex([]byte("x"))}}, exampleKey(), "s3", DefaultRegion)
		if resp, body := ts.do(t, req); resp.StatusCode == http.StatusOK {
			t.Errorf("PutObject accepted key %q: %s", key, body)
		}
	}
	if keys := ts.srv.ObjectKeys("other-bucket"); len(keys) != 0 {
		t.Errorf("a key escaped into other-bucket: %v", keys)
	}
}

func TestS3RegionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := New(Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CreateBucket("kept-bucket", "ap-southeast-2"); err != nil {
		t.Fatal(err)
	}
	if err := first.putObject(context.Background(), "kept-bucket", "a/b", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second, err := New(Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if region, ok := second.BucketRegion("kept-bucket"); !ok || region != "ap-southeast-2" {
		t.Errorf("BucketRegion after restart = %q, %v", region, ok)
	}
	if keys := second.ObjectKeys("kept-bucket"); len(keys) != 1 || keys[0] != "a/b" {
		t.Errorf("ObjectKeys after restart = %v", keys)
	}
}

func TestS3OperationNames(t *testing.T) {
	tests := []struct {
		method, target string
		header         string
		want           string
	}{
		{"GET", "/", "", "ListBuckets"},
		{"PUT", "/b", "", "CreateBucket"},
		{"HEAD", "/b", "", "HeadBucket"},
		{"GET", "/b?location", "", "GetBucketLocation"},
		{"GET", "/b?list-type=2&prefix=x", "", "ListObjectsV2"},
		{"GET", "/b", "", "ListObjects"},
		{"DELETE", "/b", "", "DeleteBucket"},
		{"POST", "/b?delete", "", "DeleteObjects"},
		{"GET", "/b/k/x", "", "GetObject"},
		{"HEAD", "/b/k", "", "HeadObject"},
		{"PUT", "/b/k", "", "PutObject"},
		{"PUT", "/b/k", "/src/k", "CopyObject"},
		{"DELETE", "/b/k", "", "DeleteObject"},
		{"POST", "/b/k?uploads", "", "CreateMultipartUpload"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "UploadPart"},
		{"POST", "/b/k?uploadId=u", "", "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", "", "AbortMultipartUpload"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.header != "" {
			req.Header.Set("X-Amz-Copy-Source", tt.header)
		}
		if got := s3Operation(req); got != tt.want {
			t.Errorf("%s %s = %s, want %s", tt.method, tt.target, got, tt.want)
		}
	}
}

func assertObject(t *testing.T, ts *coreSandbox, bucket, key string, want []byte) {
	t.Helper()
	out, err := ts.s3Client(exampleKeyProvider(), DefaultRegion).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(bufio.NewReader(out.Body))
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s/%s has %d bytes that differ from the %d expected", bucket, key, len(got), len(want))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func crc32Bytes(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func sha256Sum(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}

func TestS3ListObjectsPages(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("list-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	keys := []string{"out/cmd-1/i-1/stdout", "out/cmd-1/i-1/stderr", "out/cmd-1/i-2/stdout", "out/cmd-2/i-1/stdout", "out/top.txt", "other.txt"}
	for _, key := range keys {
		if err := ts.srv.putObject(ctx, "list-bucket", key, strings.NewReader(key)); err != nil {
			t.Fatal(err)
		}
	}
	client := ts.s3Client(exampleKeyProvider(), DefaultRegion)

	var listed []string
	pages := 0
	paginator := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("list-bucket"), Prefix: aws.String("out/"), MaxKeys: aws.Int32(2)})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 page %d: %v", pages+1, err)
		}
		pages++
		if len(page.Contents) > 2 {
			t.Errorf("page %d has %d keys, more than MaxKeys 2", pages, len(page.Contents))
		}
		for _, object := range page.Contents {
			listed = append(listed, aws.ToString(object.Key))
		}
	}
	want := []string{"out/cmd-1/i-1/stderr", "out/cmd-1/i-1/stdout", "out/cmd-1/i-2/stdout", "out/cmd-2/i-1/stdout", "out/top.txt"}
	if strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Errorf("listed %v, want %v", listed, want)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}

	// With a delimiter, common prefixes count towards max-keys and page too.
	var prefixes []string
	paginator = s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("list-bucket"), Prefix: aws.String("out/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 with delimiter: %v", err)
		}
		for _, common := range page.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(common.Prefix))
		}
		for _, object := range page.Contents {
			prefixes = append(prefixes, aws.ToString(object.Key))
		}
	}
	if got, want := strings.Join(prefixes, ","), "out/cmd-1/,out/cmd-2/,out/top.txt"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
}

func TestS3RejectsDotBucketNames(t *testing.T) {
	ts := startCore(t)
	ctx := context.Background()
	if err := ts.srv.CreateBucket("private-bucket", DefaultRegion); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.putObject(ctx, "private-bucket", "secret.txt", strings.NewReader("private")); err != nil {
		t.Fatal(err)
	}

	// "." and ".." name the directory of all buckets, or its parent, in the
	// on-disk store, so none of these requests may reach them.
	requests := []struct{ method, target string }{
		{"GET", "/./private-bucket/secret.txt"},
		{"GET", "/.?list-type=2"},
		{"GET", "/..?list-type=2"},
		{"PUT", "/./stray-file"},
		{"DELETE", "/."},
		{"GET", "/../metadata/private-bucket"},
	}
	for _, tt := range requests {
		req := ts.signedRequest(t, tt.method, tt.target, nil, http.Header{"X-Amz-Content-Sha256": {emptySHA256}}, exampleKey(), "s3", DefaultRegion)
		resp, body := ts.do(t, req)
		if resp.StatusCode < 400 || strings.Contains(body, "private") {
			t.Errorf("%s %s: status %d, body %s", tt.method, tt.target, resp.StatusCode, body)
		}
	}
	if keys := ts.srv.ObjectKeys("private-bucket"); len(keys) != 1 {
		t.Errorf("private-bucket keys = %v, want only secret.txt", keys)
	}
	buckets, err := ts.s3Client(exampleKeyProvider(), DefaultRegion).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(buckets.Buckets) != 1 {
		t.Errorf("ListBuckets = %d buckets, want only private-bucket", len(buckets.Buckets))
	}
}
