package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// S3: gofakes3 with its on-disk backend (s3afero) serves the REST API,
// path-style. In front of it the sandbox checks the payload of every request
// against its signature, and adds what gofakes3 leaves out and the connector
// meets in AWS: bucket regions, CreateBucket's location rules, and
// x-amz-expected-bucket-owner.

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

type s3Service struct {
	srv     *Server
	backend *s3afero.MultiBucketBackend
	handler http.Handler
	// spoolDir holds request bodies while they are checked.
	spoolDir    string
	regionsFile string

	mu      sync.Mutex
	regions map[string]string
}

// errBucketExists is returned by CreateBucket for a bucket that exists.
var errBucketExists = errors.New("bucket already exists")

func newS3Service(s *Server) (*s3Service, error) {
	root := filepath.Join(s.opts.StateDir, "s3")
	spoolDir := filepath.Join(s.opts.StateDir, "s3-spool")
	for _, dir := range []string{root, spoolDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create S3 directory: %w", err)
		}
	}

	backend, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), root))
	if err != nil {
		return nil, fmt.Errorf("open S3 store in %s: %w", root, err)
	}
	fake := gofakes3.New(pagedBackend{backend},
		gofakes3.WithTimeSource(sandboxClock{s}),
		// The SigV4 check has already bounded the clock skew.
		gofakes3.WithTimeSkewLimit(0),
		gofakes3.WithLogger(s3Logger{s.log}),
	)

	svc := &s3Service{
		srv:         s,
		backend:     backend,
		handler:     fake.Server(),
		spoolDir:    spoolDir,
		regionsFile: filepath.Join(s.opts.StateDir, "s3-regions.json"),
		regions:     map[string]string{},
	}
	if err := svc.loadRegions(); err != nil {
		return nil, err
	}
	return svc, nil
}

// serveS3 serves a verified S3 request.
func (s *Server) serveS3(w http.ResponseWriter, in *inbound) {
	r := in.r
	bucket, key := splitS3Path(r.URL.Path)
	// S3 returns stored checksums only on request, and not for a range.
	// Decide now, because the headers are trimmed before gofakes3 runs.
	withChecksums := r.Header.Get("X-Amz-Checksum-Mode") == "ENABLED" && r.Header.Get("Range") == ""
	// PutObject and UploadPart return the flexible checksum they stored.
	var storedChecksum, storedChecksumValue string
	rec := &responseRecorder{ResponseWriter: w, beforeHeader: func(status int, h http.Header) {
		s.finishS3Headers(in, withChecksums && status != http.StatusPartialContent, h)
		if storedChecksum != "" && status < 300 {
			h.Set(storedChecksum, storedChecksumValue)
		}
	}}
	defer func() {
		// gofakes3 leaves the status of some responses to net/http.
		if !rec.wroteHeader {
			rec.WriteHeader(http.StatusOK)
		}
	}()

	if apiErr := s.checkS3Bucket(rec, in, bucket); apiErr != nil {
		s.writeS3Error(rec, in, apiErr)
		return
	}
	if key != "" && !storableKey(key) {
		s.writeS3Error(rec, in, &APIError{
			Code:    "InvalidArgument",
			Message: "The sandbox stores objects as files and cannot hold a key with an empty, '.' or '..' path segment: " + key,
			Status:  http.StatusBadRequest,
		})
		return
	}

	body, apiErr := s.s3.readBody(in)
	if apiErr != nil {
		s.writeS3Error(rec, in, apiErr)
		return
	}
	defer body.close()

	switch in.operation {
	case "CreateBucket":
		s.createBucketREST(rec, in, bucket, body)
		return
	case "GetBucketLocation":
		s.getBucketLocation(rec, in, bucket)
		return
	case "HeadBucket":
		if region, ok := s.BucketRegion(bucket); ok {
			rec.Header().Set("X-Amz-Bucket-Region", region)
		}
	case "PutObject", "UploadPart":
		storedChecksum, storedChecksumValue = body.checksumName, body.checksumValue
	}

	// Hand gofakes3 the checked body, and only the headers it should store.
	reader, err := body.reader()
	if err != nil {
		s.log.Error("reopen S3 request body", "request_id", in.requestID, "error", err)
		s.writeS3Error(rec, in, serverError("s3"))
		return
	}
	r.Body = io.NopCloser(reader)
	r.ContentLength = body.size
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.FormatInt(body.size, 10))
	sanitizeS3Headers(r.Header)
	if body.checksumName != "" {
		r.Header.Set(body.checksumName, body.checksumValue)
	}
	s.s3.handler.ServeHTTP(rec, r)

	if in.operation == "DeleteBucket" && rec.status == http.StatusNoContent {
		s.s3.forgetRegion(bucket)
	}
}

// checkS3Bucket applies the checks that AWS makes on the bucket before the
// operation: that it exists, its owner and its region.
func (s *Server) checkS3Bucket(w http.ResponseWriter, in *inbound, bucket string) *APIError {
	if bucket == "" || in.operation == "CreateBucket" {
		return nil
	}
	// Reject before reading a body that could not be stored anyway.
	if !s.bucketExists(bucket) {
		return &APIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Status: http.StatusNotFound}
	}

	owner := in.r.Header.Get("X-Amz-Expected-Bucket-Owner")
	if owner == "" {
		owner = in.r.URL.Query().Get("x-amz-expected-bucket-owner")
	}
	if owner != "" && owner != s.opts.AccountID {
		return &APIError{Code: "AccessDenied", Message: "Access Denied", Status: http.StatusForbidden}
	}

	// GetBucketLocation works from any region. Everything else must be
	// signed for the bucket's region.
	region, _ := s.BucketRegion(bucket)
	if in.operation != "GetBucketLocation" && region != in.region() {
		w.Header().Set("X-Amz-Bucket-Region", region)
		return &APIError{
			Code:    "AuthorizationHeaderMalformed",
			Message: fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", in.region(), region),
			Status:  http.StatusBadRequest,
		}
	}
	return nil
}

// storableKey reports whether the on-disk store can hold key as a file
// path of the same name.
func storableKey(key string) bool {
	for _, segment := range strings.Split(key, "/") {
		if segment == "" || segment == "." || segment == ".." {
			return false
		}
	}
	return !strings.ContainsRune(key, 0)
}

// createBucketREST serves CreateBucket with S3's location rules: a request
// signed for us-east-1 creates a bucket there without a LocationConstraint,
// and any other region must name itself as the LocationConstraint.
func (s *Server) createBucketREST(w http.ResponseWriter, in *inbound, bucket string, body *spooledBody) {
	if err := gofakes3.ValidateBucketName(bucket); err != nil {
		s.writeS3Error(w, in, &APIError{Code: "InvalidBucketName", Message: "The specified bucket is not valid.", Status: http.StatusBadRequest})
		return
	}

	var config struct {
		LocationConstraint string
	}
	if body.size > 0 {
		raw, err := body.bytes(64 << 10)
		if err == nil {
			err = xml.Unmarshal(raw, &config)
		}
		if err != nil {
			s.writeS3Error(w, in, &APIError{Code: "MalformedXML", Message: "The XML you provided was not well-formed or did not validate against our published schema.", Status: http.StatusBadRequest})
			return
		}
	}

	constraint := strings.TrimSpace(config.LocationConstraint)
	signing := in.region()
	var apiErr *APIError
	switch {
	case constraint == "us-east-1":
		apiErr = &APIError{Code: "InvalidLocationConstraint", Message: "The specified location-constraint is not valid", Status: http.StatusBadRequest}
	case constraint == "" && signing != "us-east-1":
		apiErr = &APIError{Code: "IllegalLocationConstraintException", Message: "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.", Status: http.StatusBadRequest}
	case constraint != "" && constraint != signing:
		apiErr = &APIError{Code: "IllegalLocationConstraintException", Message: fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint), Status: http.StatusBadRequest}
	}
	if apiErr != nil {
		s.writeS3Error(w, in, apiErr)
		return
	}

	// NOTE: S3 returns 200 when the owner re-creates a bucket in us-east-1,
	// but the sandbox returns 409 BucketAlreadyOwnedByYou in every region.
	if err := s.CreateBucket(bucket, signing); err != nil {
		if errors.Is(err, errBucketExists) {
			s.writeS3Error(w, in, &APIError{Code: "BucketAlreadyOwnedByYou", Message: "Your previous request to create the named bucket succeeded and you already own it.", Status: http.StatusConflict})
			return
		}
		s.log.Error("create bucket", "bucket", bucket, "request_id", in.requestID, "error", err)
		s.writeS3Error(w, in, serverError("s3"))
		return
	}
	w.Header().Set("Location", "/"+bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// getBucketLocation responds with the bucket's region, empty for us-east-1.
func (s *Server) getBucketLocation(w http.ResponseWriter, in *inbound, bucket string) {
	region, ok := s.BucketRegion(bucket)
	if !ok {
		s.writeS3Error(w, in, &APIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Status: http.StatusNotFound})
		return
	}
	if region == "us-east-1" {
		region = ""
	}
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Region  string   `xml:",chardata"`
	}{Xmlns: s3Namespace, Region: region})
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// finishS3Headers runs just before an S3 response's headers go out.
func (s *Server) finishS3Headers(in *inbound, withChecksums bool, h http.Header) {
	h.Set("X-Amz-Request-Id", in.requestID)
	h.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString([]byte(in.requestID+in.requestID+in.requestID)))
	h.Set("Server", "AmazonS3")
	if h.Get("Date") == "" {
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	// gofakes3 allows every origin, but S3 sends CORS headers only for a
	// bucket with a CORS configuration, which the sandbox does not have.
	for name := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			delete(h, name)
		}
	}

	if in.operation != "GetObject" && in.operation != "HeadObject" {
		return
	}
	if !withChecksums {
		for name := range h {
			if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
				delete(h, name)
			}
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "binary/octet-stream")
	}
}

// writeS3Error writes apiErr in S3's XML error shape. A HEAD response has
// no body.
func (s *Server) writeS3Error(w http.ResponseWriter, in *inbound, apiErr *APIError) {
	bucket, _ := splitS3Path(in.r.URL.Path)
	errBody := struct {
		XMLName    xml.Name `xml:"Error"`
		Code       string
		Message    string
		BucketName string `xml:",omitempty"`
		Region     string `xml:",omitempty"`
		RequestId  string
		HostId     string
	}{
		Code:      apiErr.Code,
		Message:   apiErr.Message,
		Region:    w.Header().Get("X-Amz-Bucket-Region"),
		RequestId: in.requestID,
		HostId:    base64.StdEncoding.EncodeToString([]byte(in.requestID + in.requestID + in.requestID)),
	}
	switch apiErr.Code {
	case "NoSuchBucket", "BucketAlreadyOwnedByYou", "InvalidBucketName":
		errBody.BucketName = bucket
	}
	body, _ := xml.Marshal(errBody)
	body = append([]byte(xml.Header), body...)

	h := w.Header()
	h.Set("X-Amz-Request-Id", in.requestID)
	h.Set("X-Amz-Id-2", errBody.HostId)
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("Server", "AmazonS3")
	if in.r.Method == http.MethodHead {
		w.WriteHeader(apiErr.status())
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(apiErr.status())
	w.Write(body)
}

// sanitizeS3Headers removes the x-amz- headers that gofakes3 would store as
// object metadata and send back, such as the date, the session token and
// the payload hash, and the aws-chunked content coding, which S3 removes.
func sanitizeS3Headers(h http.Header) {
	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !storedS3Header(lower) {
			delete(h, name)
		}
	}
	h.Del("Authorization")

	var codings []string
	for _, coding := range strings.Split(h.Get("Content-Encoding"), ",") {
		if coding = strings.TrimSpace(coding); coding != "" && coding != "aws-chunked" {
			codings = append(codings, coding)
		}
	}
	if len(codings) == 0 {
		h.Del("Content-Encoding")
	} else {
		h.Set("Content-Encoding", strings.Join(codings, ","))
	}
}

// storedS3Header reports whether an x-amz- header (lower case) is part of
// the object that S3 stores, or an argument that gofakes3 reads.
func storedS3Header(name string) bool {
	for _, prefix := range []string{"x-amz-meta-", "x-amz-copy-source", "x-amz-server-side-encryption", "x-amz-object-lock-"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	if _, ok := checksumAlgorithms[strings.TrimPrefix(name, "x-amz-checksum-")]; ok && strings.HasPrefix(name, "x-amz-checksum-") {
		return true
	}
	switch name {
	case "x-amz-metadata-directive", "x-amz-storage-class", "x-amz-tagging", "x-amz-acl", "x-amz-website-redirect-location":
		return true
	}
	return false
}

// splitS3Path splits a path-style URL path into bucket and key.
func splitS3Path(path string) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

// s3Operation infers the S3 operation, as the SDK names it, from the
// method, the path and the subresource in the query.
func s3Operation(r *http.Request) string {
	bucket, key := splitS3Path(r.URL.Path)
	query := r.URL.Query()
	has := query.Has
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""

	if bucket == "" {
		return "ListBuckets"
	}
	if key == "" {
		switch r.Method {
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodGet:
			switch {
			case has("location"):
				return "GetBucketLocation"
			case has("versioning"):
				return "GetBucketVersioning"
			case has("versions"):
				return "ListObjectVersions"
			case has("uploads"):
				return "ListMultipartUploads"
			case has("policy"):
				return "GetBucketPolicy"
			case has("tagging"):
				return "GetBucketTagging"
			case has("acl"):
				return "GetBucketAcl"
			case query.Get("list-type") == "2":
				return "ListObjectsV2"
			default:
				return "ListObjects"
			}
		case http.MethodPut:
			switch {
			case has("versioning"):
				return "PutBucketVersioning"
			case has("policy"):
				return "PutBucketPolicy"
			case has("tagging"):
				return "PutBucketTagging"
			case has("acl"):
				return "PutBucketAcl"
			default:
				return "CreateBucket"
			}
		case http.MethodDelete:
			switch {
			case has("policy"):
				return "DeleteBucketPolicy"
			case has("tagging"):
				return "DeleteBucketTagging"
			default:
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects"
			}
			return "PostObject"
		}
		return r.Method + "Bucket"
	}

	switch r.Method {
	case http.MethodHead:
		return "HeadObject"
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		case has("acl"):
			return "GetObjectAcl"
		case has("attributes"):
			return "GetObjectAttributes"
		default:
			return "GetObject"
		}
	case http.MethodPut:
		switch {
		case has("uploadId") && copySource:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case has("tagging"):
			return "PutObjectTagging"
		case has("acl"):
			return "PutObjectAcl"
		case copySource:
			return "CopyObject"
		default:
			return "PutObject"
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		default:
			return "DeleteObject"
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("restore"):
			return "RestoreObject"
		case has("select"):
			return "SelectObjectContent"
		}
	}
	return r.Method + "Object"
}

// putObject writes an object straight into the S3 backend. It copies body
// to a file in the state directory first, so that a slow reader never holds
// the backend's lock and memory stays bounded whatever the size.
func (s *Server) putObject(ctx context.Context, bucket, key string, body io.Reader) error {
	if !s.bucketExists(bucket) {
		return fmt.Errorf("put object s3://%s/%s: %w", bucket, key, &APIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Status: http.StatusNotFound})
	}
	if !storableKey(key) {
		return fmt.Errorf("put object s3://%s/%s: the key has an empty, '.' or '..' path segment", bucket, key)
	}

	spool := newSpool(s.s3.spoolDir)
	defer spool.close()
	if _, err := io.Copy(spool, contextReader{ctx, body}); err != nil {
		return fmt.Errorf("put object s3://%s/%s: read body: %w", bucket, key, err)
	}
	reader, err := spool.reader()
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", bucket, key, err)
	}

	meta := map[string]string{"Last-Modified": s.now().UTC().Format(http.TimeFormat)}
	if _, err := s.s3.backend.PutObject(bucket, key, meta, reader, spool.size, nil); err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// bucketExists reports whether the bucket exists in the S3 backend. A name
// that no bucket may have, such as ".", never exists, even where the
// backend would find a directory of that name.
func (s *Server) bucketExists(bucket string) bool {
	if s.s3 == nil || gofakes3.ValidateBucketName(bucket) != nil {
		return false
	}
	exists, err := s.s3.backend.BucketExists(bucket)
	if err != nil {
		s.log.Warn("check S3 bucket", "bucket", bucket, "error", err)
	}
	return exists
}

// BucketRegion returns the region of a bucket, and whether it exists.
func (s *Server) BucketRegion(name string) (region string, ok bool) {
	if !s.bucketExists(name) {
		return "", false
	}
	s.s3.mu.Lock()
	defer s.s3.mu.Unlock()
	if region, ok := s.s3.regions[name]; ok {
		return region, true
	}
	return DefaultRegion, true
}

// CreateBucket creates a bucket of the account in region (DefaultRegion
// when empty). It returns an error that wraps errBucketExists when the
// bucket exists.
func (s *Server) CreateBucket(name, region string) error {
	if region == "" {
		region = DefaultRegion
	}
	if err := gofakes3.ValidateBucketName(name); err != nil {
		return fmt.Errorf("create bucket %s: invalid bucket name: %w", name, err)
	}

	s.s3.mu.Lock()
	defer s.s3.mu.Unlock()
	if s.bucketExists(name) {
		return fmt.Errorf("create bucket %s: %w", name, errBucketExists)
	}
	if err := s.s3.backend.CreateBucket(name); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	s.s3.regions[name] = region
	if err := s.s3.saveRegions(); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// ObjectKeys returns the keys of all objects in bucket, sorted, or none when
// the bucket does not exist.
func (s *Server) ObjectKeys(bucket string) []string {
	list, err := s.s3.backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		return nil
	}
	keys := make([]string, 0, len(list.Contents))
	for _, object := range list.Contents {
		keys = append(keys, object.Key)
	}
	sort.Strings(keys)
	return keys
}

// loadRegions reads the bucket regions kept in the state directory by an
// earlier run.
func (svc *s3Service) loadRegions() error {
	data, err := os.ReadFile(svc.regionsFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read bucket regions: %w", err)
	}
	if err := json.Unmarshal(data, &svc.regions); err != nil {
		return fmt.Errorf("read bucket regions from %s: %w", svc.regionsFile, err)
	}
	return nil
}

// saveRegions writes the bucket regions to the state directory. The caller
// holds svc.mu.
func (svc *s3Service) saveRegions() error {
	data, err := json.MarshalIndent(svc.regions, "", "  ")
	if err != nil {
		return err
	}
	tmp := svc.regionsFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write bucket regions: %w", err)
	}
	if err := os.Rename(tmp, svc.regionsFile); err != nil {
		return fmt.Errorf("write bucket regions: %w", err)
	}
	return nil
}

func (svc *s3Service) forgetRegion(bucket string) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	delete(svc.regions, bucket)
	if err := svc.saveRegions(); err != nil {
		svc.srv.log.Warn("forget bucket region", "bucket", bucket, "error", err)
	}
}

// pagedBackend adds S3's list paging to the on-disk backend, which can only
// list a whole bucket. Without it gofakes3 returns every key in one page,
// whatever max-keys the client sent.
type pagedBackend struct {
	*s3afero.MultiBucketBackend
}

// ListBucket returns the keys and common prefixes after page.Marker, in
// key order, at most page.MaxKeys of them when it is positive.
func (b pagedBackend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	all, err := b.MultiBucketBackend.ListBucket(bucket, prefix, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, err
	}

	// Keys and common prefixes share one order and one max-keys count.
	type entry struct {
		key     string
		content *gofakes3.Content
	}
	entries := make([]entry, 0, len(all.Contents)+len(all.CommonPrefixes))
	for _, content := range all.Contents {
		entries = append(entries, entry{key: content.Key, content: content})
	}
	for _, common := range all.CommonPrefixes {
		entries = append(entries, entry{key: common.Prefix})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })

	list := gofakes3.NewObjectList()
	for _, e := range entries {
		if page.HasMarker && e.key <= page.Marker {
			continue
		}
		if page.MaxKeys > 0 && int64(len(list.Contents)+len(list.CommonPrefixes)) == page.MaxKeys {
			list.IsTruncated = true
			break
		}
		if e.content != nil {
			list.Add(e.content)
		} else {
			list.AddPrefix(e.key)
		}
		list.NextMarker = e.key
	}
	if !list.IsTruncated {
		list.NextMarker = ""
	}
	return list, nil
}

// sandboxClock gives gofakes3 the sandbox's clock, for Last-Modified.
type sandboxClock struct{ s *Server }

func (c sandboxClock) Now() time.Time                  { return c.s.now().In(time.UTC) }
func (c sandboxClock) Since(t time.Time) time.Duration { return c.s.now().Sub(t) }

// s3Logger passes gofakes3's warnings and errors to the sandbox's logger.
// Its info lines, one or more per request, are dropped: the routing layer
// logs each request once.
type s3Logger struct{ log *slog.Logger }

func (l s3Logger) Print(level gofakes3.LogLevel, v ...any) {
	switch level {
	case gofakes3.LogErr:
		l.log.Error("S3 backend: " + fmt.Sprint(v...))
	case gofakes3.LogWarn:
		l.log.Warn("S3 backend: " + fmt.Sprint(v...))
	}
}

// contextReader stops reading once ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
