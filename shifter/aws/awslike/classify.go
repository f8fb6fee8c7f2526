package awslike

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// protocol is how a call is encoded on the wire, which decides how an error
// must look for the SDK to parse it.
type protocol int

const (
	// AWS Query: a form with Action, answered in XML (ELBv2, Auto Scaling,
	// STS, SNS, CloudWatch with the query override).
	protoQuery protocol = iota
	// EC2's dialect of Query, with its own error document.
	protoEC2
	// AWS JSON 1.0/1.1: the operation in X-Amz-Target (DynamoDB,
	// CloudWatch with the JSON override).
	protoJSON
	// Smithy RPC v2 CBOR: the operation in the path (CloudWatch's default
	// since cloudwatch v1.75).
	protoCBOR
)

// call is what the layer knows of one request.
type call struct {
	account, region string
	service         budget.Service
	operation       string
	protocol        protocol
	contentType     string     // of a JSON request, to answer in kind
	form            url.Values // a Query request's parameters
	charges         []budget.Charge
	class           string // the request bucket's class, for the counts
	page            *page  // of a listing moto does not page as AWS does
}

// credentialScope reads Credential=AKID/DATE/REGION/SERVICE/aws4_request
// from a SigV4 Authorization header or a presigned URL's X-Amz-Credential.
var credentialScope = regexp.MustCompile(`(?:^|[ ,=])(?:Credential=)?[^/ ,]+/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// cborPath is an RPC v2 CBOR request's path: /service/<svc>/operation/<Op>.
var cborPath = regexp.MustCompile(`^/service/[^/]+/operation/([^/]+)$`)

// scopeOf reads the region and service a request is signed for.
func scopeOf(r *http.Request) (region string, service budget.Service) {
	scope := r.Header.Get("Authorization")
	if scope == "" {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	if m := credentialScope.FindStringSubmatch(scope); m != nil {
		return m[1], budget.Service(m[2])
	}
	return "", ""
}

// classify reads a request's account, region, service, operation and wire
// protocol. body is the request's body, already read.
func classify(r *http.Request, body []byte) *call {
	c := &call{account: r.Header.Get(AccountHeader)}
	if c.account == "" {
		c.account = DefaultAccount
	}
	c.region, c.service = scopeOf(r)

	switch target := r.Header.Get("X-Amz-Target"); {
	case target != "":
		c.protocol, c.contentType = protoJSON, r.Header.Get("Content-Type")
		c.operation = target[strings.LastIndexByte(target, '.')+1:]
	case cborPath.MatchString(r.URL.Path):
		c.protocol = protoCBOR
		c.operation = cborPath.FindStringSubmatch(r.URL.Path)[1]
	default:
		c.protocol = protoQuery
		if c.service == budget.EC2 {
			c.protocol = protoEC2
		}
		c.form = queryForm(r, body)
		c.operation = c.form.Get("Action")
		if c.service == budget.Route53 {
			c.operation = route53Operation(r.Method, r.URL.Path)
		}
	}

	bc := budget.Call{Service: c.service, Operation: c.operation}
	if c.service == budget.EC2 {
		bc.Unfiltered, bc.Resources = ec2Shape(c.operation, c.form)
	}
	// ELBv1 (Classic) shares ELBv2's signing name but has buckets of its
	// own, which the table does not hold.
	if c.service != budget.ELBv2 || c.form.Get("Version") == elbAPIVersion {
		c.charges = budget.Charges(bc)
	}
	if len(c.charges) > 0 {
		c.class = c.charges[0].Limit.Class
	}
	return c
}

// route53Paths name Route 53's REST operations by method and path (API
// version 2013-04-01): those the shifter and the tests call.
var route53Paths = []struct {
	method string
	path   *regexp.Regexp
	op     string
}{
	{http.MethodPost, regexp.MustCompile(`^/2013-04-01/hostedzone/[^/]+/rrset/?$`), "ChangeResourceRecordSets"},
	{http.MethodGet, regexp.MustCompile(`^/2013-04-01/hostedzone/[^/]+/rrset/?$`), "ListResourceRecordSets"},
	{http.MethodGet, regexp.MustCompile(`^/2013-04-01/hostedzone/[^/]+$`), "GetHostedZone"},
	{http.MethodPost, regexp.MustCompile(`^/2013-04-01/hostedzone/?$`), "CreateHostedZone"},
	{http.MethodGet, regexp.MustCompile(`^/2013-04-01/change/[^/]+$`), "GetChange"},
}

// route53Operation names a Route 53 REST call by its method and path; one
// it does not know is "other", charged like every Route 53 call.
func route53Operation(method, path string) string {
	for _, p := range route53Paths {
		if p.method == method && p.path.MatchString(path) {
			return p.op
		}
	}
	return "other"
}

// elbAPIVersion is ELBv2's Query API version.
const elbAPIVersion = "2015-12-01"

// queryForm returns a Query request's parameters, from its URL and its form
// body; a body the SDK compressed (CloudWatch PutMetricData) is read
// uncompressed.
func queryForm(r *http.Request, body []byte) url.Values {
	form := r.URL.Query()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return form // a REST call (S3, Route 53): its body is no form
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				body = b
			}
		}
	}
	if values, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range values {
			form[k] = append(form[k], v...)
		}
	}
	return form
}

// ec2Shape says whether an EC2 call carries neither a filter nor
// pagination, and how many instances it affects (for the resource buckets).
func ec2Shape(op string, form url.Values) (unfiltered bool, resources int) {
	unfiltered = form.Get("MaxResults") == "" && form.Get("NextToken") == ""
	for k := range form {
		if strings.HasPrefix(k, "Filter.") {
			unfiltered = false
		}
		if strings.HasPrefix(k, "InstanceId.") {
			resources++
		}
	}
	if op == "RunInstances" {
		resources, _ = strconv.Atoi(form.Get("MaxCount"))
	}
	return unfiltered, resources
}

// members returns the values of a Query list parameter, prefix.member.N,
// with field appended when the members are structures
// ("Targets.member.1.Id").
func members(form url.Values, prefix, field string) []string {
	var out []string
	for i := 1; ; i++ {
		key := prefix + ".member." + strconv.Itoa(i)
		if field != "" {
			key += "." + field
		}
		v, ok := form[key]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}
