// Package awslike is a reverse proxy that sits between the SDK clients and
// moto's server and makes moto behave like AWS where it does not. moto
// stays the AWS: every call is forwarded to it unchanged, and the layer
// only adds what AWS does and moto does not (TESTING.md, "What moto does
// not do that AWS does"), so the shifter is tested against AWS's behaviour
// rather than moto's kindness:
//
//   - Request budgets. AWS throttles each account and region with token
//     buckets per service and action class; the layer keeps the buckets of
//     the budget package's table and answers a call that finds one empty
//     with the service's own throttling error, in the call's own wire
//     protocol (Query, EC2, JSON, RPC v2 CBOR), so the SDK sees what AWS
//     would send. DynamoDB, STS and SNS pass unbudgeted: DynamoDB throttles
//     by table capacity, not by request count.
//   - Target health. AWS health-checks a target group only while a listener
//     forwards to it (weight 0 included): targets of an unused group are
//     unused (Target.NotInUse), a new target or a newly used group's
//     targets are initial for the health-check interval × healthy
//     threshold, a deregistered target is draining for the group's
//     deregistration delay, and a knob fails chosen targets' checks. moto
//     answers healthy at once and forgets deregistered targets; the layer
//     rewrites its DescribeTargetHealth answers. It follows every change to
//     what listeners forward to by re-reading the listener or rule from moto
//     after the call, and also corrects DescribeTargetGroups'
//     LoadBalancerArns, which moto never shrinks.
//   - ECS tasks. moto keeps ECS services but never runs a task; the layer
//     runs a service's desired count of tasks as IP targets in its target
//     group, drains those it stops, and shows a deleted service DRAINING
//     until they have drained (ecs.go): the one fake of ECS.
//   - Names. moto names a Network Load Balancer's ARNs (its own, its
//     listeners', their rules') as an Application Load Balancer's
//     (.../app/...); the layer answers with AWS's .../net/... and maps them
//     back in requests (nlbarn.go).
//   - Listeners. AWS gives a port of a load balancer one listener and
//     refuses a second with DuplicateListener; moto creates it. AWS's
//     ModifyListener takes TLS as a protocol and replaces a TLS listener's
//     certificate; moto refuses the one and ignores the other, and the
//     layer applies them (listeners.go).
//   - Time. Calls take a few milliseconds of latency, and the health
//     timeline runs on a time scale (TestTimeScale in tests: an AWS second
//     is 10 ms).
//   - Pages. moto answers DescribeLaunchTemplates with its first MaxResults
//     templates and no nextToken; the layer pages it as AWS does, so a
//     listing of a large account sees every template (pages.go).
//   - Loss. Brownouts make a service answer 503 or stall; Wipe deletes what
//     the shifter owns in an account behind its back.
//
// Calls a test makes for its own setup and inspection carry ExemptHeader:
// they are forwarded and followed like any other, but take no tokens, get
// no latency and are never refused. Stats counts calls, throttles and
// refusals per service, class and operation, for benchmarks.
//
// The layer keeps its state in memory, per moto account (AccountHeader)
// and region (the SigV4 credential scope).
package awslike
