package awslike

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"sync"
)

// moto names the ARNs of every load balancer, its listeners and their rules
// .../app/NAME/ID, whether it is an Application or a Network Load Balancer;
// AWS names a Network Load Balancer's .../net/NAME/ID. The layer answers with
// AWS's names and maps them back to moto's in requests, so the code under
// test sees, and validates, the ARNs AWS gives.

// netKinds remembers which load balancers (NAME/ID) are Network Load
// Balancers, as moto's answers describe them. IDs are random, so one set
// serves every account.
type netKinds struct {
	mu      sync.Mutex
	network map[string]bool
}

// elbARN matches the load balancer part of a load balancer, listener or
// listener rule ARN in moto's naming; appARN the same in a form body.
var (
	elbARN = regexp.MustCompile(`(:(?:loadbalancer|listener|listener-rule)/)app/([A-Za-z0-9-]+/[0-9a-f]+)`)
	netARN = regexp.MustCompile(`((?::|%3A)(?:loadbalancer|listener|listener-rule)(?:/|%2F))net((?:/|%2F))`)
)

// lbAnswer is the load balancers of a CreateLoadBalancer or
// DescribeLoadBalancers answer.
type lbAnswer struct {
	Result struct {
		LoadBalancers []struct {
			ARN  string `xml:"LoadBalancerArn"`
			Type string `xml:"Type"`
		} `xml:"LoadBalancers>member"`
	} `xml:",any"`
}

// learn records the network load balancers an answer describes.
func (k *netKinds) learn(body []byte) {
	var a lbAnswer
	if xml.Unmarshal(body, &a) != nil {
		return // not an answer describing load balancers
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, lb := range a.Result.LoadBalancers {
		if m := elbARN.FindStringSubmatch(lb.ARN); m != nil && lb.Type == "network" {
			if k.network == nil {
				k.network = map[string]bool{}
			}
			k.network[m[2]] = true
		}
	}
}

// toAWS renames the ARNs of network load balancers in an answer.
func (k *netKinds) toAWS(body []byte) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.network) == 0 {
		return body
	}
	return elbARN.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := elbARN.FindSubmatch(m)
		if !k.network[string(sub[2])] {
			return m
		}
		return bytes.Join([][]byte{sub[1], []byte("net/"), sub[2]}, nil)
	})
}

// toMoto renames AWS's network load balancer ARNs in a request to moto's,
// plain or URL-encoded; the length stays the same.
func toMoto(body []byte) []byte { return netARN.ReplaceAll(body, []byte("${1}app${2}")) }
