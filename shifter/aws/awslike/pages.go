package awslike

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

// Pages. moto answers DescribeLaunchTemplates with its first MaxResults
// templates and no nextToken, so that a listing of an account with more
// templates than a page silently misses the rest. AWS pages it: at most
// MaxResults (1–200) templates, and a nextToken while more remain (EC2 API
// reference, DescribeLaunchTemplates). The layer asks moto for all of them
// and answers the page the caller asked for.

// paged is the EC2 operations the layer pages, by the element of the list
// in their answer.
var paged = map[string]string{"DescribeLaunchTemplates": "launchTemplates"}

// page is the part of a listing a call asked for.
type page struct {
	list         string // the answer's list element
	offset, size int    // size 0: all that remain
}

// askAll rewrites the body of a paged call to ask moto for every item, and
// returns the page the caller asked for; nil for a call the layer does not
// page.
func askAll(c *call) (*page, []byte) {
	list, ok := paged[c.operation]
	if c.service != budget.EC2 || !ok {
		return nil, nil
	}
	p := &page{list: list}
	p.size, _ = strconv.Atoi(c.form.Get("MaxResults"))
	p.offset, _ = strconv.Atoi(c.form.Get("NextToken"))
	form := url.Values{}
	for k, v := range c.form {
		form[k] = v
	}
	form.Del("NextToken")
	form.Set("MaxResults", strconv.Itoa(1<<30))
	return p, []byte(form.Encode())
}

// cut returns moto's whole answer cut to the page, with a nextToken naming
// the next page's offset while items remain.
func (p *page) cut(body []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var (
		depth, listDepth     int
		itemStart            int64
		items                [][2]int64 // byte ranges of the list's items
		contentStart, listAt int64      // the list's content, and where it ends
		end                  int64      // the end of the list's closing tag
	)
	for {
		before := dec.InputOffset()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", p.list, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case listDepth == 0 && t.Name.Local == p.list:
				listDepth, contentStart = depth, dec.InputOffset()
			case listDepth > 0 && depth == listDepth+1:
				itemStart = before
			}
		case xml.EndElement:
			switch {
			case listDepth > 0 && depth == listDepth+1:
				items = append(items, [2]int64{itemStart, dec.InputOffset()})
			case listDepth > 0 && depth == listDepth:
				listAt, end, listDepth = before, dec.InputOffset(), -1
			}
			depth--
		}
	}
	if end == 0 {
		return body, nil // no list: an error, or nothing to page
	}
	from := min(p.offset, len(items))
	to := len(items)
	if p.size > 0 {
		to = min(from+p.size, len(items))
	}
	var out bytes.Buffer
	out.Write(body[:contentStart])
	for _, it := range items[from:to] {
		out.Write(body[it[0]:it[1]])
	}
	out.Write(body[listAt:end])
	if to < len(items) {
		fmt.Fprintf(&out, "<nextToken>%d</nextToken>", to)
	}
	out.Write(body[end:])
	return out.Bytes(), nil
}
