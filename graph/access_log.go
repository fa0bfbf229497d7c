package graph

import (
	"context"
	"encoding/base64"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The verifiable access log: checkpoints, proofs and the per-grant summary. The
// authorized store asks for each the same filter as for the entry list, so that only the
// customer's admins reach them.

func checkpointModel(c *wvsoft.LogCheckpoint) *model.AccessLogCheckpoint {
	if c == nil {
		return nil
	}
	at := c.MadeAt
	return &model.AccessLogCheckpoint{TreeSize: int(c.Size), RootHash: base64.StdEncoding.EncodeToString(c.Root), Note: c.Note, SignedAt: &at}
}

func base64List(hashes [][]byte) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func (r *Resolver) accessLogCheckpoint(ctx context.Context, tenant uuid.UUID) (*model.AccessLogCheckpoint, error) {
	c, err := r.authorized.LatestCheckpoint(ctx, tenant)
	return checkpointModel(c), err
}

func (r *Resolver) accessLogSignedFrom(ctx context.Context, tenant uuid.UUID) (*int, error) {
	n, err := r.authorized.SignedFrom(ctx, tenant)
	if err != nil {
		return nil, err
	}
	from := int(n)
	return &from, nil
}

func (r *Resolver) accessLogInclusionProof(ctx context.Context, tenant uuid.UUID, seq int, treeSize *int) (*model.AccessLogInclusionProof, error) {
	p, err := r.authorized.InclusionProof(ctx, tenant, int64(seq), int64Ptr(treeSize))
	if err != nil {
		return nil, err
	}
	return &model.AccessLogInclusionProof{Seq: int(p.Seq), TreeSize: int(p.TreeSize), Record: string(p.Record),
		LeafHash: base64.StdEncoding.EncodeToString(p.LeafHash), Hashes: base64List(p.Hashes), Checkpoint: checkpointModel(p.Checkpoint)}, nil
}

func (r *Resolver) accessLogConsistencyProof(ctx context.Context, tenant uuid.UUID, from int, to *int) (*model.AccessLogConsistencyProof, error) {
	p, err := r.authorized.ConsistencyProof(ctx, tenant, int64(from), int64Ptr(to))
	if err != nil {
		return nil, err
	}
	return &model.AccessLogConsistencyProof{From: int(p.From), To: int(p.To), Hashes: base64List(p.Hashes),
		FromCheckpoint: checkpointModel(p.FromCheckpoint), ToCheckpoint: checkpointModel(p.ToCheckpoint)}, nil
}

func (r *Resolver) accessLogSummary(ctx context.Context, tenant uuid.UUID, grantID *string) ([]*wvsoft.AccessGrantSummary, error) {
	var grant *uuid.UUID
	if grantID != nil {
		id, err := wvsoft.ParseGlobalIDOf("grantId", wvsoft.KindSupportAccessGrant, *grantID)
		if err != nil {
			return nil, err
		}
		grant = &id
	}
	return r.authorized.AccessSummaries(ctx, tenant, grant)
}

func int64Ptr(v *int) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}
