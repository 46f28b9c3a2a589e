package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"pulso/app/apptest"
	"pulso/app/files"
	"pulso/queries"
)

func newStore(t *testing.T) (*apptest.Env, files.Store, queries.Org) {
	t.Helper()
	env := apptest.New(t)
	return env, files.New(env.DB), env.Org("Archivos S.L.")
}

// pattern is n bytes that differ from chunk to chunk, so a chunk read in
// the wrong order or twice shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/files.ChunkSize)
	}
	return b
}

func readBack(t *testing.T, s files.Store, orgID, id int64) ([]byte, files.File) {
	t.Helper()
	rc, f, err := s.Open(context.Background(), orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, f
}

func TestPutOpenRoundTrip(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	ctx := context.Background()
	for _, n := range []int{0, 1, files.ChunkSize - 1, files.ChunkSize, files.ChunkSize + 1, 3*files.ChunkSize + 17} {
		data := pattern(n)
		data = append(data, byte(n)) // every size its own content
		sum := sha256.Sum256(data)
		f, err := s.Put(ctx, org.ID, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if f.Size != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) || f.OrgID != org.ID {
			t.Errorf("%d bytes: put %+v", len(data), f)
		}
		got, opened := readBack(t, s, org.ID, f.ID)
		if !bytes.Equal(got, data) || opened != f {
			t.Errorf("%d bytes: read %d bytes back, %+v", len(data), len(got), opened)
		}
		chunks := (len(data) + files.ChunkSize - 1) / files.ChunkSize
		if n := env.Count(`SELECT count(*) FROM file_chunks WHERE org_id = $1 AND file_id = $2`, org.ID, f.ID); n != chunks {
			t.Errorf("%d bytes in %d chunks, want %d", len(data), n, chunks)
		}
		// io.Copy goes through WriteTo.
		rc, _, err := s.Open(ctx, org.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, rc); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Errorf("%d bytes: io.Copy gave %d bytes, %v", len(data), buf.Len(), err)
		}
		rc.Close()
	}
}

func TestSameContentOncePerOrg(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	ctx := context.Background()
	data := pattern(files.ChunkSize + 10)
	a, err := s.Put(ctx, org.ID, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Put(ctx, org.ID, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("the same bytes twice: %+v and %+v", a, b)
	}
	if n := env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, org.ID) + env.Count(`SELECT count(*) FROM file_chunks WHERE org_id = $1`, org.ID); n != 1+2 {
		t.Errorf("%d rows for one file of two chunks", n)
	}
	// Another org's copy is its own, and neither org opens the other's.
	other := env.Org("Otra S.L.")
	c, err := s.Put(ctx, other.ID, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == a.ID || c.OrgID != other.ID {
		t.Errorf("org B's copy %+v", c)
	}
	if _, _, err := s.Open(ctx, other.ID, a.ID); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("org B opened org A's file: %v", err)
	}
	if err := s.Delete(ctx, other.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := readBack(t, s, org.ID, a.ID); !bytes.Equal(got, data) {
		t.Error("org B's delete reached org A's file")
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestFailedPutStoresNothing(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	boom := errors.New("connection reset")
	_, err := s.Put(context.Background(), org.ID, &failingReader{r: bytes.NewReader(pattern(2*files.ChunkSize + 5)), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("Put: %v", err)
	}
	if n := env.Count(`SELECT count(*) FROM files`) + env.Count(`SELECT count(*) FROM file_chunks`); n != 0 {
		t.Errorf("a failed upload left %d rows", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, org.ID, bytes.NewReader(pattern(10))); err == nil {
		t.Error("Put with a cancelled context stored")
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	ctx := context.Background()
	used, err := s.Put(ctx, org.ID, bytes.NewReader(pattern(files.ChunkSize*2)))
	if err != nil {
		t.Fatal(err)
	}
	free, err := s.Put(ctx, org.ID, bytes.NewReader([]byte("nadie me usa")))
	if err != nil {
		t.Fatal(err)
	}
	admin := env.User(org, "admin@archivos.test", "admin")
	env.Exec(`INSERT INTO imports (org_id, kind, filename, file_id, size_bytes, format, created_by) VALUES ($1, 'leads', 'a.csv', $2, $3, 'csv', $4)`,
		org.ID, used.ID, used.Size, admin.ID)
	if err := s.Delete(ctx, org.ID, used.ID); !errors.Is(err, files.ErrInUse) {
		t.Errorf("deleting a file an import uses: %v", err)
	}
	if got, _ := readBack(t, s, org.ID, used.ID); len(got) != int(used.Size) {
		t.Error("a refused delete removed bytes")
	}
	if err := s.Delete(ctx, org.ID, free.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(ctx, org.ID, free.ID); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("open after delete: %v", err)
	}
	if n := env.Count(`SELECT count(*) FROM file_chunks WHERE org_id = $1 AND file_id = $2`, org.ID, free.ID); n != 0 {
		t.Errorf("%d chunks left", n)
	}
	if err := s.Delete(ctx, org.ID, free.ID); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	// Stored again, the same bytes make a new file.
	again, err := s.Put(ctx, org.ID, bytes.NewReader([]byte("nadie me usa")))
	if err != nil || again.ID == free.ID {
		t.Errorf("put after delete: %+v %v", again, err)
	}
}

// A file whose chunks went missing says so instead of ending early.
func TestMissingChunkIsAnError(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	f, err := s.Put(context.Background(), org.ID, bytes.NewReader(pattern(files.ChunkSize+1)))
	if err != nil {
		t.Fatal(err)
	}
	env.Exec(`DELETE FROM file_chunks WHERE org_id = $1 AND file_id = $2 AND seq = 1`, org.ID, f.ID)
	rc, _, err := s.Open(context.Background(), org.ID, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read of a truncated file: %v", err)
	}
}

// Uploads of the same bytes at the same time end in one file: the unique
// content key makes the later ones wait for the first and take its file.
func TestConcurrentPutsOfTheSameBytes(t *testing.T) {
	t.Parallel()
	env, s, org := newStore(t)
	data := pattern(files.ChunkSize + 3)
	const n = 4
	got := make(chan files.File, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			f, err := s.Put(context.Background(), org.ID, bytes.NewReader(data))
			got <- f
			errs <- err
		}()
	}
	var first files.File
	for i := range n {
		f, err := <-got, <-errs
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = f
		} else if f != first {
			t.Errorf("%+v and %+v for the same bytes", first, f)
		}
	}
	if c := env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, org.ID); c != 1 {
		t.Errorf("%d files", c)
	}
}
