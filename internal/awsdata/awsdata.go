// Package awsdata turns AWS SDK for Go v2 values into plain JSON values
// with AWS's member names. That is the shape that SOAR playbooks written
// for boto3-based apps read: absent members left out, timestamps as
// "YYYY-MM-DD HH:MM:SS" in UTC, and a ResponseMetadata object per call.
package awsdata

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TimeLayout is the timestamp form that existing playbooks parse.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime writes t in UTC as TimeLayout.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	metadataType = reflect.TypeOf(middleware.Metadata{})
)

// Map converts an SDK struct (or pointer, slice or map of them) into
// map[string]any, []any, string, bool and number values. Nil pointers, nil
// slices and nil maps are left out, as boto3 leaves out members that AWS did
// not send. Empty but present ones are kept. ResultMetadata and unexported
// fields are dropped.
func Map(v any) any {
	out, _ := convert(reflect.ValueOf(v))
	return out
}

// Object is Map for a struct, returned as a map so callers can add members.
func Object(v any) map[string]any {
	m, _ := Map(v).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// convert returns the plain value and false when v is absent.
func convert(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return convert(v.Elem())

	case reflect.Struct:
		if v.Type() == timeType {
			return FormatTime(v.Interface().(time.Time)), true
		}
		m := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Type == metadataType {
				continue
			}
			if value, ok := convert(v.Field(i)); ok {
				m[f.Name] = value
			}
		}
		return m, true

	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes(), true
		}
		list := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			value, _ := convert(v.Index(i))
			list = append(list, value)
		}
		return list, true

	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			value, _ := convert(iter.Value())
			m[keyString(iter.Key())] = value
		}
		return m, true

	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return nil, false
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return fmt.Sprint(k.Interface())
}

// ResponseMetadata builds the ResponseMetadata object of one call from its
// result metadata: RequestId, HTTPStatusCode, HTTPHeaders (names in lower
// case) and RetryAttempts, the number of retries before the final response.
func ResponseMetadata(md middleware.Metadata) map[string]any {
	rm := map[string]any{"RetryAttempts": 0}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		rm["RequestId"] = id
	}

	raw := awsmiddleware.GetRawResponse(md)
	attempts, ok := retry.GetAttemptResults(md)
	if ok && len(attempts.Results) > 0 {
		rm["RetryAttempts"] = len(attempts.Results) - 1
		if raw == nil {
			raw = attempts.Results[len(attempts.Results)-1].GetRawResponse()
		}
	}

	if resp, ok := raw.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil {
		rm["HTTPStatusCode"] = resp.StatusCode
		headers := map[string]any{}
		for name, values := range resp.Header {
			headers[strings.ToLower(name)] = strings.Join(values, ", ")
		}
		if resp.ContentLength >= 0 {
			if _, ok := headers["content-length"]; !ok {
				headers["content-length"] = strconv.FormatInt(resp.ContentLength, 10)
			}
		}
		rm["HTTPHeaders"] = headers
		if _, ok := rm["RequestId"]; !ok {
			if id := resp.Header.Get("X-Amzn-Requestid"); id != "" {
				rm["RequestId"] = id
			}
		}
	}
	return rm
}
