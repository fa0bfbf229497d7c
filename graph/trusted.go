package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of the trusted-document refusals, as Apollo's persisted queries name the first.
const (
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	CodeTrustedDocumentOnly    = "TRUSTED_DOCUMENT_REQUIRED"
)

// TrustedDocuments is an allow-list of operations: documents by the SHA-256 of their text, the
// name a client gives as extensions.persistedQuery.sha256Hash (Apollo's automatic persisted
// queries). A client sends the hash alone and the server runs the document it knows; with
// Required, nothing else runs (GRAPHQL_TRUSTED_DOCUMENTS=required).
type TrustedDocuments struct {
	byHash   map[string]string
	Required bool
}

// LoadTrustedDocuments reads every .graphql file below the root of fsys, one document per file,
// named by the SHA-256 of its text exactly as stored.
func LoadTrustedDocuments(fsys fs.FS, required bool) (*TrustedDocuments, error) {
	docs := &TrustedDocuments{byHash: map[string]string{}, Required: required}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".graphql" {
			return err
		}
		text, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		docs.byHash[HashDocument(string(text))] = string(text)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(docs.byHash) == 0 {
		return nil, fmt.Errorf("no .graphql documents")
	}
	return docs, nil
}

// HashDocument is a document's name: the hex SHA-256 of its text.
func HashDocument(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Has says whether the document is one of the trusted, exactly.
func (t *TrustedDocuments) Has(query string) bool {
	_, ok := t.byHash[HashDocument(query)]
	return ok
}

// Len is how many documents are trusted.
func (t *TrustedDocuments) Len() int { return len(t.byHash) }

// trustedDocumentsExtension resolves hashes to documents before anything else looks at the
// operation, and with Required refuses every other document.
type trustedDocumentsExtension struct{ docs *TrustedDocuments }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = trustedDocumentsExtension{}

func (trustedDocumentsExtension) ExtensionName() string                          { return "WvSoftTrustedDocuments" }
func (trustedDocumentsExtension) Validate(schema graphql.ExecutableSchema) error { return nil }

func (e trustedDocumentsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if hash, asked := persistedHash(p.Extensions); asked {
		doc, ok := e.docs.byHash[strings.ToLower(hash)]
		switch {
		case !ok:
			return coded(CodePersistedQueryNotFound, "no trusted document has this sha256Hash; send one of the documents the server trusts")
		case p.Query != "" && p.Query != doc:
			return coded("BAD_USER_INPUT", "the document does not match its sha256Hash")
		}
		p.Query = doc
		return nil
	}
	if e.docs.Required {
		if _, ok := e.docs.byHash[HashDocument(p.Query)]; !ok {
			return coded(CodeTrustedDocumentOnly, "this server runs trusted documents only: send extensions.persistedQuery.sha256Hash of one")
		}
	}
	return nil
}

// persistedHash reads extensions.persistedQuery.sha256Hash (version 1).
func persistedHash(ext map[string]any) (string, bool) {
	pq, ok := ext["persistedQuery"].(map[string]any)
	if !ok {
		return "", false
	}
	hash, _ := pq["sha256Hash"].(string)
	return hash, true
}

func coded(code, msg string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": code}
	return err
}
