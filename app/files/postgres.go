package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/queries"
)

// ChunkSize is how many bytes one file_chunks row holds. A 50 MB upload is
// a hundred inserts and a hundred reads; a writer or reader holds one chunk
// at a time, whatever the file's size.
const ChunkSize = 512 << 10

// Postgres keeps files in the files and file_chunks tables.
type Postgres struct{ db *pgxpool.Pool }

// NewPostgres stores files in db.
func NewPostgres(db *pgxpool.Pool) *Postgres { return &Postgres{db: db} }

// Put writes the chunks as r yields them, in one transaction that also
// seals the file with its size and hash, so a failed or abandoned upload
// leaves nothing. When the org already has the same bytes the transaction
// is rolled back and the existing file returned.
func (s *Postgres) Put(ctx context.Context, orgID int64, r io.Reader) (File, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return File{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	q := queries.New(tx)
	id, err := q.CreateFile(ctx, orgID)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	buf := make([]byte, ChunkSize)
	var size int64
	for seq := int32(0); ; seq++ {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			if err := q.WriteFileChunk(ctx, queries.WriteFileChunkParams{OrgID: orgID, FileID: id, Seq: seq, Data: buf[:n]}); err != nil {
				return File{}, err
			}
			size += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return File{}, fmt.Errorf("files: reading what to store: %w", rerr)
		}
	}
	f := File{OrgID: orgID, ID: id, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	for {
		sealed, err := seal(ctx, tx, f)
		if err != nil {
			return File{}, err
		}
		if sealed {
			return f, tx.Commit(ctx)
		}
		// The org has these bytes already: keep that file, drop this one.
		have, err := q.FileByContent(ctx, queries.FileByContentParams{OrgID: orgID, Sha256: f.SHA256})
		if errors.Is(err, pgx.ErrNoRows) {
			continue // deleted in the meantime: this copy is the one after all
		}
		if err != nil {
			return File{}, err
		}
		return File{OrgID: orgID, ID: have.ID, Size: have.SizeBytes, SHA256: have.Sha256}, tx.Rollback(ctx)
	}
}

// seal records the file's size and hash under a savepoint; false means the
// org has a file with this content already (files_content_key).
func seal(ctx context.Context, tx pgx.Tx, f File) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	err = queries.New(sp).SealFile(ctx, queries.SealFileParams{OrgID: f.OrgID, ID: f.ID, SizeBytes: f.Size, Sha256: f.SHA256})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "files_content_key" {
		return false, sp.Rollback(ctx)
	}
	if err != nil {
		return false, err
	}
	return true, sp.Commit(ctx)
}

// Open reads the file's chunks one query at a time as the reader is
// drained: no connection or transaction is held between reads, so a slow
// download does not pin one. Files never change once sealed.
func (s *Postgres) Open(ctx context.Context, orgID, id int64) (io.ReadCloser, File, error) {
	row, err := queries.New(s.db).GetFile(ctx, queries.GetFileParams{OrgID: orgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, File{}, ErrNotFound
	}
	if err != nil {
		return nil, File{}, err
	}
	f := File{OrgID: orgID, ID: row.ID, Size: row.SizeBytes, SHA256: row.Sha256}
	return &chunkReader{ctx: ctx, q: queries.New(s.db), f: f}, f, nil
}

// Delete removes the file and, by cascade, its chunks.
func (s *Postgres) Delete(ctx context.Context, orgID, id int64) error {
	_, err := queries.New(s.db).DeleteFile(ctx, queries.DeleteFileParams{OrgID: orgID, ID: id})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return ErrInUse
	}
	return err
}

type chunkReader struct {
	ctx  context.Context
	q    *queries.Queries
	f    File
	seq  int32
	read int64 // bytes handed out so far
	buf  []byte
}

// next loads the following chunk once the current one is used up.
func (r *chunkReader) next() error {
	if r.read >= r.f.Size {
		return io.EOF
	}
	data, err := r.q.FileChunk(r.ctx, queries.FileChunkParams{OrgID: r.f.OrgID, FileID: r.f.ID, Seq: r.seq})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && len(data) == 0) {
		return fmt.Errorf("files: file %d ends at chunk %d, %d of %d bytes: %w", r.f.ID, r.seq, r.read, r.f.Size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	r.seq++
	r.buf = data
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	return n, nil
}

// WriteTo hands each chunk to w as it is, without copying it through
// io.Copy's buffer.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.buf) == 0 {
			err := r.next()
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			if err != nil {
				return total, err
			}
		}
		n, err := w.Write(r.buf)
		r.buf = r.buf[n:]
		r.read += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (r *chunkReader) Close() error {
	r.buf, r.read = nil, r.f.Size
	return nil
}
