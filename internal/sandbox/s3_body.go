package sandbox

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// The sandbox copies an S3 request body to memory or a file while it checks
// the body against what the signature promised: a SHA-256, or the chunk
// signatures of aws-chunked encoding. It also checks a flexible checksum
// (x-amz-checksum-*). So gofakes3 only ever stores a body that passed.

// spoolMemoryLimit is how much of a body stays in memory. The rest goes to
// a file.
const spoolMemoryLimit = 1 << 20

// checksumAlgorithms are S3's flexible checksums, by the suffix of their
// x-amz-checksum- header.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	// CRC-64/NVME. hash/crc64 takes the polynomial in reversed form.
	"crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// spooledBody is a request body that passed its checks.
type spooledBody struct {
	*spool
	// checksumName and checksumValue are the flexible checksum that came
	// with the body, from a header or a trailer, with the header's name.
	checksumName  string
	checksumValue string
}

// readBody reads and checks the body of a verified S3 request.
func (svc *s3Service) readBody(in *inbound) (*spooledBody, *APIError) {
	r := in.r
	mode := in.auth.payloadHash
	body := &spooledBody{spool: newSpool(svc.spoolDir)}
	ok := false
	defer func() {
		if !ok {
			body.close()
		}
	}()

	streaming := strings.HasPrefix(mode, "STREAMING-")
	switch {
	case mode == streamingSigned || mode == streamingSignedTrailer || mode == streamingUnsignedTrailer:
	case streaming:
		return nil, &APIError{Code: "NotImplemented", Message: "The sandbox does not support the payload signing mode " + mode + ".", Status: http.StatusNotImplemented}
	case mode == unsignedPayload:
	case !isHexSHA256(mode):
		return nil, &APIError{Code: "InvalidArgument", Message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", Status: http.StatusBadRequest}
	}

	checksum, apiErr := declaredChecksum(r, streaming)
	if apiErr != nil {
		return nil, apiErr
	}
	sink := io.Writer(body.spool)
	if checksum != nil {
		sink = io.MultiWriter(body.spool, checksum.hash)
	}

	if streaming {
		decodedLength, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil || decodedLength < 0 {
			return nil, &APIError{Code: "MissingContentLength", Message: "An aws-chunked upload must carry x-amz-decoded-content-length.", Status: http.StatusLengthRequired}
		}
		var signer *chunkSigner
		if mode != streamingUnsignedTrailer {
			signer = &chunkSigner{key: in.auth.signingKey, sig: in.auth.sig, previous: in.auth.sig.Signature}
		}
		trailers, apiErr := decodeAWSChunked(bufio.NewReader(r.Body), sink, signer, mode != streamingSigned)
		if apiErr != nil {
			return nil, apiErr
		}
		if body.size != decodedLength {
			return nil, &APIError{Code: "IncompleteBody", Message: fmt.Sprintf("The decoded body has %d bytes, but x-amz-decoded-content-length is %d.", body.size, decodedLength), Status: http.StatusBadRequest}
		}
		if checksum != nil && checksum.fromTrailer {
			checksum.expected = trailers.Get(checksum.header)
			if checksum.expected == "" {
				return nil, &APIError{Code: "MalformedTrailerError", Message: "The request body lacks the trailer " + checksum.header + " that x-amz-trailer announced.", Status: http.StatusBadRequest}
			}
		}
	} else {
		payload := sha256.New()
		if _, err := io.Copy(io.MultiWriter(sink, payload), r.Body); err != nil {
			return nil, &APIError{Code: "IncompleteBody", Message: "Reading the request body failed: " + err.Error(), Status: http.StatusBadRequest}
		}
		if mode != unsignedPayload && !strings.EqualFold(hex.EncodeToString(payload.Sum(nil)), mode) {
			return nil, (&authError{failure: authPayloadMismatch}).apiError("s3")
		}
	}

	if checksum != nil {
		if apiErr := checksum.verify(); apiErr != nil {
			return nil, apiErr
		}
		body.checksumName, body.checksumValue = checksum.header, checksum.expected
	}
	ok = true
	return body, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// flexibleChecksum is a checksum that the client sent with the body.
type flexibleChecksum struct {
	algorithm   string
	header      string // canonical header name, X-Amz-Checksum-Crc32
	expected    string // base64, from the header or, later, the trailer
	fromTrailer bool
	hash        hash.Hash
}

// declaredChecksum finds the flexible checksum of a request: an
// x-amz-checksum-<algorithm> header, or for aws-chunked bodies a trailer
// announced by x-amz-trailer.
func declaredChecksum(r *http.Request, streaming bool) (*flexibleChecksum, *APIError) {
	var found *flexibleChecksum
	for algorithm, newHash := range checksumAlgorithms {
		header := http.CanonicalHeaderKey("x-amz-checksum-" + algorithm)
		if value := r.Header.Get(header); value != "" {
			if found != nil {
				return nil, &APIError{Code: "InvalidRequest", Message: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.", Status: http.StatusBadRequest}
			}
			found = &flexibleChecksum{algorithm: algorithm, header: header, expected: value, hash: newHash()}
		}
	}

	trailer := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer")))
	if trailer == "" {
		return found, nil
	}
	if !streaming {
		return nil, &APIError{Code: "InvalidRequest", Message: "x-amz-trailer requires an aws-chunked body.", Status: http.StatusBadRequest}
	}
	algorithm, isChecksum := strings.CutPrefix(trailer, "x-amz-checksum-")
	newHash := checksumAlgorithms[algorithm]
	if !isChecksum || newHash == nil || strings.Contains(trailer, ",") {
		return nil, &APIError{Code: "InvalidRequest", Message: "The sandbox accepts only one x-amz-checksum- trailer, not " + trailer + ".", Status: http.StatusBadRequest}
	}
	if found != nil {
		return nil, &APIError{Code: "InvalidRequest", Message: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.", Status: http.StatusBadRequest}
	}
	return &flexibleChecksum{algorithm: algorithm, header: http.CanonicalHeaderKey(trailer), fromTrailer: true, hash: newHash()}, nil
}

func (c *flexibleChecksum) verify() *APIError {
	decoded, err := base64.StdEncoding.DecodeString(c.expected)
	if err != nil || len(decoded) != c.hash.Size() {
		return &APIError{Code: "InvalidRequest", Message: fmt.Sprintf("Value for %s is invalid.", strings.ToLower(c.header)), Status: http.StatusBadRequest}
	}
	if !bytes.Equal(decoded, c.hash.Sum(nil)) {
		return &APIError{Code: "BadDigest", Message: fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToUpper(c.algorithm)), Status: http.StatusBadRequest}
	}
	return nil
}

// chunkSigner computes the chain of signatures of a signed aws-chunked
// body: each chunk's signature covers the previous one, starting from the
// request's own signature.
type chunkSigner struct {
	key      []byte
	sig      *sigV4
	previous string
}

func (c *chunkSigner) chunk(chunkHash string) string {
	stringToSign := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.sig.Time.Format(amzDateFormat) + "\n" + c.sig.scope() + "\n" +
		c.previous + "\n" + emptySHA256 + "\n" + chunkHash
	c.previous = hex.EncodeToString(hmacSHA256(c.key, stringToSign))
	return c.previous
}

func (c *chunkSigner) trailer(trailerHash string) string {
	stringToSign := "AWS4-HMAC-SHA256-TRAILER\n" + c.sig.Time.Format(amzDateFormat) + "\n" + c.sig.scope() + "\n" +
		c.previous + "\n" + trailerHash
	return hex.EncodeToString(hmacSHA256(c.key, stringToSign))
}

// maxChunkLine bounds a chunk header or trailer line.
const maxChunkLine = 4096

// decodeAWSChunked copies the data of an aws-chunked body to dst. Each chunk
// is "<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n", the last one has
// size 0, and trailer lines "name:value\r\n" and an empty line follow. With
// a signer every chunk signature, and the trailer signature when there are
// trailers, must match. It returns the trailers.
func decodeAWSChunked(src *bufio.Reader, dst io.Writer, signer *chunkSigner, withTrailer bool) (http.Header, *APIError) {
	bad := func(format string, args ...any) *APIError {
		return &APIError{Code: "IncompleteBody", Message: "Malformed aws-chunked body: " + fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
	}
	signatureMismatch := (&authError{failure: authSignatureMismatch}).apiError("s3")

	for {
		line, err := readChunkLine(src)
		if err != nil {
			return nil, bad("read chunk header: %v", err)
		}
		sizeText, extension, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 {
			return nil, bad("chunk size %q is not a hex number", sizeText)
		}

		chunkHash := sha256.New()
		if _, err := io.CopyN(io.MultiWriter(dst, chunkHash), src, size); err != nil {
			return nil, bad("read %d bytes of chunk data: %v", size, err)
		}
		if signer != nil {
			signature, found := strings.CutPrefix(extension, "chunk-signature=")
			if !found {
				return nil, bad("chunk without chunk-signature")
			}
			if !hmac.Equal([]byte(signer.chunk(hex.EncodeToString(chunkHash.Sum(nil)))), []byte(signature)) {
				return nil, signatureMismatch
			}
		}
		if size == 0 {
			break
		}
		if crlf, err := readChunkLine(src); err != nil || crlf != "" {
			return nil, bad("chunk data is not followed by CRLF")
		}
	}

	// Trailers, then an empty line. A body may end right after the last chunk.
	trailers := http.Header{}
	var canonicalTrailers strings.Builder
	var trailerSignature string
	for {
		line, err := readChunkLine(src)
		if err == io.EOF && line == "" {
			break
		}
		if err != nil {
			return nil, bad("read trailer: %v", err)
		}
		if line == "" {
			break
		}
		name, value, found := strings.Cut(line, ":")
		if !found || !withTrailer {
			return nil, bad("unexpected trailer line %q", line)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSignature = value
			continue
		}
		trailers.Add(name, value)
		canonicalTrailers.WriteString(name + ":" + value + "\n")
	}

	if signer != nil && withTrailer {
		expected := signer.trailer(sha256Hex([]byte(canonicalTrailers.String())))
		if !hmac.Equal([]byte(expected), []byte(trailerSignature)) {
			return nil, signatureMismatch
		}
	}
	return trailers, nil
}

// readChunkLine reads one CRLF-terminated line, without the CRLF.
func readChunkLine(src *bufio.Reader) (string, error) {
	var line []byte
	for {
		part, isPrefix, err := src.ReadLine()
		line = append(line, part...)
		if len(line) > maxChunkLine {
			return "", errors.New("line too long")
		}
		if err != nil {
			return string(line), err
		}
		if !isPrefix {
			return string(line), nil
		}
	}
}

// spool holds a body in memory up to spoolMemoryLimit and in a temporary
// file beyond.
type spool struct {
	dir  string
	buf  bytes.Buffer
	file *os.File
	size int64
}

func newSpool(dir string) *spool { return &spool{dir: dir} }

func (sp *spool) Write(p []byte) (int, error) {
	if sp.file == nil && sp.buf.Len()+len(p) > spoolMemoryLimit {
		file, err := os.CreateTemp(sp.dir, "body-")
		if err != nil {
			return 0, fmt.Errorf("spool request body: %w", err)
		}
		sp.file = file
		if _, err := file.Write(sp.buf.Bytes()); err != nil {
			return 0, fmt.Errorf("spool request body: %w", err)
		}
		sp.buf = bytes.Buffer{}
	}

	var n int
	var err error
	if sp.file != nil {
		n, err = sp.file.Write(p)
	} else {
		n, err = sp.buf.Write(p)
	}
	sp.size += int64(n)
	return n, err
}

// reader returns a reader of the whole body, from its start.
func (sp *spool) reader() (io.Reader, error) {
	if sp.file == nil {
		return bytes.NewReader(sp.buf.Bytes()), nil
	}
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind spooled body: %w", err)
	}
	return sp.file, nil
}

// bytes returns the body if it has at most limit bytes.
func (sp *spool) bytes(limit int64) ([]byte, error) {
	if sp.size > limit {
		return nil, fmt.Errorf("body has %d bytes, more than %d", sp.size, limit)
	}
	reader, err := sp.reader()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(reader)
}

func (sp *spool) close() {
	if sp.file != nil {
		sp.file.Close()
		os.Remove(sp.file.Name())
		sp.file = nil
	}
}
