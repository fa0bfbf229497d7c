package wvsoft

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// LogCheckpoint is a signed head of a customer's access-log tree.
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

// AccessGrantSummary is what WvSoft did under one grant, in one line: which records and fields
// were read or written, by how many requests, from when to when.
type AccessGrantSummary struct {
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
	// SignedFrom is the first entry of a customer's log that has a checkpoint of its own: the
	// entries before it date from before the log was signed.
	SignedFrom(ctx context.Context, f TenantFilter, tenant uuid.UUID) (int64, error)
	InclusionProof(ctx context.Context, f TenantFilter, tenant uuid.UUID, seq int64, treeSize *int64) (*InclusionProof, error)
	ConsistencyProof(ctx context.Context, f TenantFilter, tenant uuid.UUID, from int64, to *int64) (*ConsistencyProof, error)
	AccessSummaries(ctx context.Context, f TenantFilter, tenant uuid.UUID, grant *uuid.UUID) ([]*AccessGrantSummary, error)
}

// CheckpointLetter sends a customer's admins the checkpoint of their access log when a grant
// ends, so that they hold evidence the server cannot change afterwards.
func CheckpointLetter(grant uuid.UUID, event, checkpoint, verifierKey string) Letter {
	ended := map[string]string{EventRevoked: "ingetrokken", EventExpired: "verlopen"}[event]
	return Letter{
		Subject: "De toegang van WvSoft tot uw gegevens is beëindigd",
		Body: "De tijdelijke toegang van de directeur van WvSoft tot uw gegevens is beëindigd (" + ended + ").\n\n" +
			"In uw omgeving bij WvSoft, onder Toegangslogboek, ziet u wat hij in die tijd heeft ingezien of gewijzigd.\n\n" +
			"Hieronder staat het controlepunt (checkpoint) van dat logboek. Bewaar deze e-mail: ermee kan uw IT-beheerder\n" +
			"later aantonen dat niemand bij WvSoft het logboek tot hier heeft gewijzigd, aangevuld of ingekort.\n\n" +
			checkpoint + "\n" +
			"Publieke sleutel van WvSoft: " + verifierKey + "\n" +
			"(vergelijk die met de sleutel in uw overeenkomst; kenmerk van de toegang: " + GlobalID(KindSupportAccessGrant, grant) + ")\n\n" +
			"Met vriendelijke groet,\nWvSoft\n",
	}
}
