package wvsoft

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// LogCheckpoint is a signed head of a customer's access-log tree (issue 14).
type LogCheckpoint struct {
	TenantID uuid.UUID
	Size     int64
	Root     []byte
	// Note is the signed note: origin, size and base64 root, an empty line, the signature.
	Note   string
	MadeAt time.Time
}

// Tenant is the customer whose log the checkpoint signs.
func (c *LogCheckpoint) Tenant() uuid.UUID { return c.TenantID }

// InclusionProof proves that entry Seq is in the tree of TreeSize entries: the hashes of
// tlog.ProveRecord, leaf first to root last.
type InclusionProof struct {
	TenantID uuid.UUID
	Seq      int64
	TreeSize int64
	Record   []byte
	LeafHash []byte
	Hashes   [][]byte
	// Checkpoint is the signed checkpoint of TreeSize, when the server signed one of that size.
	Checkpoint *LogCheckpoint
}

// ConsistencyProof proves that the tree of To entries extends the tree of From entries: the
// hashes of tlog.ProveTree.
type ConsistencyProof struct {
	TenantID       uuid.UUID
	From, To       int64
	Hashes         [][]byte
	FromCheckpoint *LogCheckpoint
	ToCheckpoint   *LogCheckpoint
}

// GrantAccessSummary is what WvSoft did under one grant, in one line: which records and fields
// were read or written, by how many requests, from when to when.
type GrantAccessSummary struct {
	TenantID uuid.UUID
	GrantID  uuid.UUID
	Requests int
	Writes   int
	Records  []string
	Fields   []string
	FirstAt  *time.Time
	LastAt   *time.Time
}

// VerifiableLog is what the verifiable access log needs from persistence. Appending happens
// inside the support-access methods.
type VerifiableLog interface {
	LatestCheckpoint(ctx context.Context, f TenantFilter, tenant uuid.UUID) (*LogCheckpoint, error)
	InclusionProof(ctx context.Context, f TenantFilter, tenant uuid.UUID, seq int64, treeSize *int64) (*InclusionProof, error)
	ConsistencyProof(ctx context.Context, f TenantFilter, tenant uuid.UUID, from int64, to *int64) (*ConsistencyProof, error)
	AccessSummaries(ctx context.Context, f TenantFilter, tenant uuid.UUID, grant *uuid.UUID) ([]*GrantAccessSummary, error)
}

// CheckpointLetter sends a customer's admins the checkpoint of their access log when a grant
// ends, so that they hold evidence the server cannot change afterwards.
func CheckpointLetter(grant uuid.UUID, event, checkpoint, verifierKey string) Letter {
	ended := map[string]string{EventRevoked: "ingetrokken / revoked", EventExpired: "verlopen / expired"}[event]
	return Letter{
		Subject: "Toegang voor support beëindigd: controlepunt van uw toegangslog / Support access ended: access-log checkpoint",
		Body: "De toegang van WvSoft's directeur is beëindigd (" + ended + ").\n" +
			"WvSoft's director's access has ended (" + ended + ").\n\n" +
			"Grant: " + GlobalID(KindAccessGrant, grant) + "\n\n" +
			"Bewaar het controlepunt hieronder; ermee toont `wvsoft audit verify --checkpoint` aan dat\n" +
			"niemand bij WvSoft het log tot hier later wijzigt, aanvult of inkort.\n" +
			"Keep the checkpoint below; with it `wvsoft audit verify --checkpoint` shows that nobody at\n" +
			"WvSoft later changes, adds to or cuts the log up to here.\n\n" +
			checkpoint + "\n" +
			"Publieke sleutel / public key: " + verifierKey + "\n" +
			"(vergelijk met de sleutel in uw overeenkomst / compare it with the key in your agreement)\n",
	}
}
