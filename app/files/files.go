// Package files keeps the bytes of files people upload or jobs write —
// import uploads and their error files, documents — where every node
// reaches them: web and worker nodes share nothing but the database, so a
// file received by one node must be readable by any other.
//
// A file belongs to an org and is stored once per content in it: putting
// bytes the org already has returns the file that holds them. Rows that
// use a file (a document, an import) refer to it by (org_id, id) with a
// foreign key, which is what keeps referenced bytes from being deleted.
//
// Store is the whole contract: stream bytes in, stream them out, delete.
// Its one implementation, Postgres, keeps them as chunked bytea rows. An
// S3-compatible bucket would be a second one: the files row (id, size,
// SHA-256) stays in PostgreSQL so the foreign keys keep working, Put
// uploads the object under a key made of org and content while hashing,
// Open is a GET and Delete removes the row and then the object. Callers
// would not change.
package files

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
)

// File is a stored file: its id within the org, size and content hash
// (lower-case hex SHA-256).
type File struct {
	OrgID  int64
	ID     int64
	Size   int64
	SHA256 string
}

// Store keeps file bytes per org.
type Store interface {
	// Put streams r into the org's files until io.EOF and returns the file
	// that holds those bytes: a new one, or the one the org already had
	// with the same content. It never holds the whole file in memory. An
	// error from r (a size limit, a cancelled upload) stores nothing and
	// is returned wrapped.
	Put(ctx context.Context, orgID int64, r io.Reader) (File, error)
	// Open streams a file back; the caller closes the reader. A file that
	// does not exist (or not in this org) is ErrNotFound.
	Open(ctx context.Context, orgID, id int64) (io.ReadCloser, File, error)
	// Delete removes a file's bytes. It refuses with ErrInUse while a row
	// still refers to the file; a file already gone is not an error.
	Delete(ctx context.Context, orgID, id int64) error
}

var (
	// ErrNotFound: no such file in the org.
	ErrNotFound = errors.New("files: no such file")
	// ErrInUse: a document or an import still refers to the file.
	ErrInUse = errors.New("files: file still in use")
)

// New is the store every node uses. It is the one place that picks where
// bytes live; today that is always PostgreSQL.
func New(db *pgxpool.Pool) Store { return NewPostgres(db) }
