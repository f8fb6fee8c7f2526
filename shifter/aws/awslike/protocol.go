package awslike

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// writeError answers c with an AWS error in c's own wire format, so the SDK
// reads it as that service would send it: a smithy.APIError with code.
//
//   - Query: <ErrorResponse><Error><Type/><Code/><Message/></Error>
//     (AWS Query protocol, "Operation error serialization");
//   - EC2: <Response><Errors><Error><Code/><Message/></Error></Errors>
//     ("Error codes for the Amazon EC2 API");
//   - JSON and RPC v2 CBOR: {"__type": code, "message": ...}; CloudWatch is
//     awsQueryCompatible, so it also names its Query code in
//     x-amzn-query-error, which the SDK prefers.
func writeError(w http.ResponseWriter, c *call, status int, code, message string) {
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	requestID := newRequestID()
	h := w.Header()
	h.Set("X-Amzn-RequestId", requestID)
	if c.service == budget.CloudWatch && (c.protocol == protoJSON || c.protocol == protoCBOR) {
		h.Set("X-Amzn-Query-Error", code+";"+fault)
	}

	var body []byte
	switch c.protocol {
	case protoJSON:
		body, _ = json.Marshal(map[string]string{"__type": code, "message": message})
		contentType := c.contentType
		if !strings.HasPrefix(contentType, "application/x-amz-json") {
			contentType = "application/x-amz-json-1.0"
		}
		h.Set("Content-Type", contentType)
	case protoCBOR:
		body = cbor.Encode(cbor.Map{"__type": cbor.String(code), "message": cbor.String(message)})
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
	case protoEC2:
		body, _ = xml.Marshal(ec2Error{Code: code, Message: message, RequestID: requestID})
		h.Set("Content-Type", "text/xml")
	default:
		body, _ = xml.Marshal(queryError{Type: fault, Code: code, Message: message, RequestID: requestID})
		h.Set("Content-Type", "text/xml")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

type queryError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type ec2Error struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

// rateExceeded is the message of AWS's throttling errors.
const rateExceeded = "Rate exceeded"

// throttle answers a call that found a bucket empty. EC2 throttles with
// HTTP 503 ("RequestLimitExceeded", EC2 API error codes); the others with
// 400.
func throttle(w http.ResponseWriter, c *call) {
	status := http.StatusBadRequest
	if c.service == budget.EC2 {
		status = http.StatusServiceUnavailable
	}
	writeError(w, c, status, c.service.ThrottleCode(), rateExceeded)
}

// ThrottleError is what the SDK returns for a call of service that AWS
// throttled: a smithy.APIError with the service's throttling code. A stand-in
// for AWS written in Go (the scale benchmark's fake) answers with it where the
// layer writes the same error on the wire.
func ThrottleError(service budget.Service) error {
	return &smithy.GenericAPIError{Code: service.ThrottleCode(), Message: rateExceeded, Fault: smithy.FaultClient}
}

// unavailable answers a call during a brownout.
func unavailable(w http.ResponseWriter, c *call) {
	writeError(w, c, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
