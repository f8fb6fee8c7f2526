package awslike

import (
	"bytes"
	"encoding/xml"
	"regexp"
)

// The parts of moto's ELBv2 answers the layer rewrites. Each is decoded from
// its element alone and spliced back, so the rest of the answer stays
// byte for byte what moto sent; fields the layer does not know ride along
// in Rest.

// rawElement is an element kept as it came.
type rawElement struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   []byte     `xml:",innerxml"`
}

// healthList is DescribeTargetHealth's TargetHealthDescriptions.
type healthList struct {
	XMLName xml.Name       `xml:"TargetHealthDescriptions"`
	Members []healthMember `xml:"member"`
}

// healthMember is one TargetHealthDescription (ELBv2 API reference).
type healthMember struct {
	Target          targetXML    `xml:"Target"`
	HealthCheckPort string       `xml:"HealthCheckPort,omitempty"`
	TargetHealth    targetHealth `xml:"TargetHealth"`
	Rest            []rawElement `xml:",any"`
}

type targetXML struct {
	ID               string       `xml:"Id"`
	Port             string       `xml:"Port,omitempty"`
	AvailabilityZone string       `xml:"AvailabilityZone,omitempty"`
	Rest             []rawElement `xml:",any"`
}

type targetHealth struct {
	State       string       `xml:"State"`
	Reason      string       `xml:"Reason,omitempty"`
	Description string       `xml:"Description,omitempty"`
	Rest        []rawElement `xml:",any"`
}

// groupList is DescribeTargetGroups' TargetGroups.
type groupList struct {
	XMLName xml.Name      `xml:"TargetGroups"`
	Members []groupMember `xml:"member"`
}

type groupMember struct {
	TargetGroupArn             string       `xml:"TargetGroupArn"`
	Port                       string       `xml:"Port,omitempty"`
	HealthCheckIntervalSeconds string       `xml:"HealthCheckIntervalSeconds,omitempty"`
	HealthyThresholdCount      string       `xml:"HealthyThresholdCount,omitempty"`
	LoadBalancerArns           []string     `xml:"LoadBalancerArns>member"`
	Rest                       []rawElement `xml:",any"`
}

// rewriteElement decodes the first element called name in body into v,
// lets edit change v, and returns body with the element re-encoded in its
// place. ok is false, and body unchanged, when body has no such element.
func rewriteElement(body []byte, name string, v any, edit func() error) (out []byte, ok bool, err error) {
	start, end := elementSpan(body, name)
	if start < 0 {
		return body, false, nil
	}
	if err := xml.Unmarshal(body[start:end], v); err != nil {
		return nil, false, err
	}
	if err := edit(); err != nil {
		return nil, false, err
	}
	enc, err := xml.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	out = append(append(append([]byte{}, body[:start]...), enc...), body[end:]...)
	return out, true, nil
}

// elementSpan finds <name>…</name> or <name/> in body; start is -1 when
// there is none. AWS answers do not nest an element in one of its own name.
func elementSpan(body []byte, name string) (start, end int) {
	if i := bytes.Index(body, []byte("<"+name+"/>")); i >= 0 {
		return i, i + len(name) + 3
	}
	i := bytes.Index(body, []byte("<"+name+">"))
	j := bytes.Index(body, []byte("</"+name+">"))
	if i < 0 || j < i {
		return -1, -1
	}
	return i, j + len(name) + 3
}

// firstValue returns the text of the first <name> element in body: the
// ARN an answer created.
func firstValue(body []byte, name string) string {
	m := regexp.MustCompile("<" + name + ">([^<]*)</" + name + ">").FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}
