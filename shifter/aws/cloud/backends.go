package cloud

import (
	"context"
	"fmt"
	"maps"

	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

var _ reconcile.Backend = backends(nil)

// backends is the backend of a placement: each environment is run by the
// backend its template names, so the reconciler sees one Backend, and an
// endpoint whose template moves from one backend to another has
// environments of both while it rolls out.
type backends map[string]reconcile.Backend

// backendOf names the backend of env: ec2 for an environment recorded
// before templates named one.
func backendOf(env rollout.Environment) string {
	if env.Template == nil || env.Template.Backend == "" {
		return rollout.BackendEC2
	}
	return env.Template.Backend
}

func (bs backends) of(endpoint string, env rollout.Environment) (reconcile.Backend, error) {
	b, ok := bs[backendOf(env)]
	if !ok {
		return nil, fmt.Errorf("environment %s of %s: no %s backend", env.ID, endpoint, backendOf(env))
	}
	return b, nil
}

func (bs backends) Create(ctx context.Context, endpoint string, env rollout.Environment) error {
	b, err := bs.of(endpoint, env)
	if err != nil {
		return err
	}
	return b.Create(ctx, endpoint, env)
}

// Observe asks each backend about its own environments.
func (bs backends) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	split := map[string][]rollout.Environment{}
	for _, env := range envs {
		split[backendOf(env)] = append(split[backendOf(env)], env)
	}
	out := make(map[string]reconcile.Env, len(envs))
	for _, some := range split {
		b, err := bs.of(endpoint, some[0])
		if err != nil {
			return nil, err
		}
		found, err := b.Observe(ctx, endpoint, some, q)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, found)
	}
	return out, nil
}

func (bs backends) Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error {
	b, err := bs.of(endpoint, env)
	if err != nil {
		return err
	}
	return b.Scale(ctx, endpoint, env, capacity)
}

func (bs backends) Delete(ctx context.Context, endpoint string, env rollout.Environment) (bool, error) {
	b, err := bs.of(endpoint, env)
	if err != nil {
		return false, err
	}
	return b.Delete(ctx, endpoint, env)
}
